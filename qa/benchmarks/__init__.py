"""Benchmark runners on standard datasets, used by ``qa eval`` (not on the query path).

- ``qa.benchmarks.squad`` / ``squad_metrics`` / ``runner`` — SQuAD 1.1 and 2.0 in the reading and
  corpus settings, scored by a re-implementation of the official v2 evaluation
  (``qa eval --squad FILE --setting reading|corpus``).
- ``qa.benchmarks.rewriting`` — follow-up rewriting measured alone: CANARD and TREC CAsT
  2019–2022 items (gold history, raw question, human rewrite) → the resolver's standalone
  question, scored by corpus BLEU-4 and token F1 against the human rewrite, beside the raw
  question as the baseline::

      items = load_canard(path)                  # or load_cast(folder)
      report = score_rewrites(items, project_rewriter(), limit=None, seed=0)
      report.as_dict()   # {"system": {"bleu", "token_f1"}, "raw_question": {...}, "changed", ...}

- ``qa.benchmarks.doc2dial`` — document-grounded dialogs asked turn by turn through the real
  ``Conversation`` over an index of the set's documents, SQuAD EM/F1 against the grounding
  spans::

      report = evaluate_doc2dial(path, limit=30, seed=0, resolve_followups=True)
      report.as_dict()   # {"mode", "dialogs", "turns", "exact_match", "f1", "abstention_rate", ...}

Nothing here prints; progress goes through ``on_step(done, total)`` callbacks, and malformed
input raises ``qa.errors.UsageError`` naming the file.
"""
