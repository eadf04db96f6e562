"""The rule reader (``--reader rules``): retrieved passages → a short extractive answer, by rules.

The earlier reader, kept for comparison with the trained one (``qa.extract``, the default). It
extracts answers (DrQA's reader role, done with rules over the retriever's evidence):

1. ``analyze`` reads what the question asks for: a person, date, place, number, organisation,
   work, a list of people or places, a reason, or another thing — and its terms, weighted by
   IDF over the corpus's sentences (a question word the corpus never uses weighs the most);
2. every sentence of the retrieved passages is scored: cosine similarity of its precomputed
   vector to the question, plus the IDF-weighted share of the question's terms it contains
   (terms only in the neighbouring sentence of the same paragraph count half: "His death..."
   follows the sentence that names him), plus a little for the passage's retrieval rank;
3. in the best sentences, candidates of the asked-for type are found — named entities from the
   corpus gazetteer (``qa.names``), dates, numbers, quoted terms — never the question's own
   entities, and scored by their sentence and by their closeness to the question's words;
   a list question gets every candidate of its type in the best sentence; a reason gets the
   clause that states it (from "because", "in order to", ...) or the whole sentence. The clause
   around a candidate is read with a little syntax: what the question says of its names must
   stand in it; "the former/latter", a pronoun and an apposition between dashes stand for
   their names; a relative clause is a clause of its own; the agent after a passive "by", the
   possessor in "Y's N" for "Whose N?" and a date attached to the question's name are preferred;
4. ``confidence`` combines the evidence score with whether the question's own names occur in
   the evidence and whether a candidate of the asked type exists (a date or number, and one
   that belongs to the question's name), and whether the corpus ever writes the question's
   multi-word names; below the calibrated threshold the assistant says the corpus does not
   answer (``answer`` is ``None``);
5. every citation's quote is checked against the corpus text by its offsets before it is
   returned; when the answer's sentence lacks a name the question asked about, the sentence
   that links them is cited too (a multi-passage answer).
"""

from qa.rules.evidence import Reader, analyze, resolve_description
from qa.rules.reader import answer_question, bridge, confidence_features, rank_sentences
from qa.rules.text import FEATURES, Calibration, Question, description, load_calibration, set_calibration

__all__ = [
    "FEATURES", "Calibration", "Question", "Reader", "analyze", "answer_question", "bridge", "confidence_features",
    "description", "load_calibration", "rank_sentences", "resolve_description", "set_calibration",
]
