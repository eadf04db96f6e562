"""The rule reader's answer: sentences ranked, the best candidate picked and scored, the
calibrated confidence, and the two-step answer for a question that names someone by
description."""

from __future__ import annotations

import re
from dataclasses import replace
import numpy as np
from qa.corpus import apply_repairs
from qa.retrieval import Hit
from qa.answer import (
    Answer,
    Citation,
    abstain,
)
from qa.rules.text import (
    Pick,
    Question,
    ScoredSentence,
    _AGENT_WEIGHT,
    _ASKS_AGENT,
    _ATTACHED_WEIGHT,
    _CLAUSE_WEIGHT,
    _CLOSENESS_WEIGHT,
    _CONTRAST_BEFORE,
    _COPULA_WEIGHT,
    _DENSE_WEIGHT,
    _LEXICAL_WEIGHT,
    _PREDICATE_WEIGHT,
    _RANK_WEIGHT,
    _SENTENCES_FOR_SPANS,
    _TYPE_WEIGHT,
    _cite,
    _coordinated,
    _defines,
    _is_agent,
    _join,
    _key,
    _mean_distance,
    _name_phrases,
    _named_words,
    _neighbour_score,
    _possessor_of,
    _reason,
    _sentence_answer,
    _shared_positions,
    _specificity,
    _stem,
    content_stems,
    load_calibration,
)
from qa.rules.evidence import (
    Reader,
    _attached_to,
    _clause_coverage,
    _coverage,
    _linking_sentence,
    _mentions,
    _phrase_known,
    _stand_ins,
    _typed_spans,
    _window_text,
    analyze,
)


def answer_question(question: str, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> Answer:
    asked = analyze(question, reader)
    sentences = rank_sentences(asked, query_vector, hits, reader)
    if not sentences or not asked.terms:
        return abstain(question, asked.kind, hits, 0.0)
    best = sentences[0]
    pick = Pick(best, None, [], best.coverage, best.coverage)
    if asked.kind not in ("reason", "other"):  # a typed answer: look for a span of that type
        pick = _best_candidate(asked, sentences[:_SENTENCES_FOR_SPANS], reader) or Pick(best, None, [], 0.0, 0.0)
    elif asked.kind == "other":
        pick = _best_candidate(asked, sentences[:2], reader, quoted_only=True) or pick
    source, span, members = pick.sentence, pick.span, pick.members
    features = confidence_features(asked, pick, sentences, reader)
    calibration = load_calibration()
    confidence = calibration.confidence(features)
    if confidence < calibration.threshold:
        return abstain(question, asked.kind, hits, confidence, features)
    text = reader.documents[source.passage.doc]
    doc_repairs = reader.repairs.get(source.passage.doc, ())
    if members:
        answer = _join([apply_repairs(text, s, e, doc_repairs) for s, e in members])
    elif span:  # the scan's "Kagano-vich" is answered as "Kaganovich"
        answer = apply_repairs(text, span[0], span[1], doc_repairs)
    elif asked.kind == "reason":
        answer = _reason(text, source, doc_repairs)
    else:
        answer = _sentence_answer(apply_repairs(text, source.start, source.end, doc_repairs))
    citations = [_cite(source, reader.documents)]
    if link := _linking_sentence(asked, source, sentences, reader):
        citations.append(_cite(link, reader.documents))
    return Answer(question, answer, False, round(confidence, 3), asked.kind, citations, hits, features=features)


def bridge(described: str, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> tuple[str, Citation] | None:
    """Whom (or which organisation) a description points to, and the sentence that says so."""
    asked = analyze(described, reader)
    kind = "organisation" if re.search(r"organi[sz]ation", described[:20], re.IGNORECASE) else "person"
    asked = replace(asked, kind=kind, wants_list=False)
    sentences = rank_sentences(asked, query_vector, hits, reader)
    pick = _best_candidate(asked, sentences[:_SENTENCES_FOR_SPANS], reader) if sentences else None
    if pick is None or pick.span is None or pick.clause < 0.3:
        return None
    doc = pick.sentence.passage.doc
    name = apply_repairs(reader.documents[doc], pick.span[0], pick.span[1], reader.repairs.get(doc, ()))
    return name, _cite(pick.sentence, reader.documents)


def rank_sentences(asked: Question, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> list[ScoredSentence]:
    scored: dict[tuple[str, int, int], ScoredSentence] = {}
    vectors = reader.sentence_vectors([(h.passage.doc, s.start, s.end) for h in hits for s in h.passage.sentences])
    for hit in hits:
        for sentence in hit.passage.sentences:
            key = (hit.passage.doc, sentence.start, sentence.end)
            if key in scored:
                continue
            dense = float(vectors[key] @ query_vector)
            coverage = _coverage(asked, key, reader)
            score = _DENSE_WEIGHT * dense + _LEXICAL_WEIGHT * coverage + _RANK_WEIGHT / hit.rank
            if asked.kind == "other" and _defines(asked, reader.documents[hit.passage.doc][sentence.start : sentence.end]):
                score += _COPULA_WEIGHT
            scored[key] = ScoredSentence(hit.passage, sentence.start, sentence.end, score, dense, coverage, hit.rank)
    return sorted(scored.values(), key=lambda s: (-s.score, s.start))


def _best_candidate(
    asked: Question, sentences: list[ScoredSentence], reader: Reader, quoted_only: bool = False
) -> Pick | None:
    best: tuple[float, Pick] | None = None
    top = sentences[0].score if sentences else 0.0
    near = {(sentences[0].passage.doc, a, b): _neighbour_score(top, a > sentences[0].start)
            for a, b in reader.neighbours.get(_key(sentences[0]), ())}
    for sentence in [*sentences, *_neighbour_sentences(asked, sentences[0], sentences, reader)]:
        lifted = near.get(_key(sentence), 0.0)
        if sentence.score < lifted:  # next door to the best evidence
            sentence = ScoredSentence(sentence.passage, sentence.start, sentence.end, lifted, sentence.dense, sentence.coverage, sentence.rank)
        if sentence.score < top - 0.25:  # far weaker evidence: not worth a candidate
            continue
        text = reader.documents[sentence.passage.doc]
        spans = _typed_spans(asked, sentence, text, reader, quoted_only)
        if not spans:
            continue
        shared = _shared_positions(asked, text, sentence)
        stand_ins = _stand_ins(text, sentence, reader)
        doing = _ASKS_AGENT.search(asked.text) if asked.kind in ("person", "organisation") else None
        verb = _stem((doing.group(1) or doing.group(2)).lower()) if doing else None  # "blocked" → "block"
        members = [answer for answer, _, weight in spans if weight >= 0.8] if asked.wants_list else []
        members = list(dict.fromkeys(members))
        # A list question prefers the sentence that names several of the asked-for things.
        list_bonus = 0.08 * min(len(members) - 1, 4) if len(members) > 1 else 0.0
        for answer, anchor, type_score in spans:
            closeness = 1.0 / (1.0 + _mean_distance(anchor, shared, asked.terms) / 6.0)
            clause = _clause_coverage(asked.terms, text, sentence, anchor, stand_ins)
            contrast = 0.3 if _CONTRAST_BEFORE.search(text, max(sentence.start, anchor[0] - 24), anchor[0]) else 0.0
            predicate = _clause_coverage(asked.predicate, text, sentence, anchor, stand_ins)
            agent = _AGENT_WEIGHT if verb and _is_agent(text, anchor, [p for p in shared if p[0] == verb]) else 0.0
            if _possessor_of(asked, text, anchor[1]):
                agent += _AGENT_WEIGHT
            if asked.kind == "date" and _attached_to(text, sentence, anchor, reader) in asked.entities:
                agent += _ATTACHED_WEIGHT
            total = (
                sentence.score + _CLOSENESS_WEIGHT * closeness + _CLAUSE_WEIGHT * clause + _TYPE_WEIGHT * type_score
                + _PREDICATE_WEIGHT * predicate + agent + list_bonus - contrast
                + _specificity(asked, text[answer[0] : answer[1]])
            )
            if best is None or total > best[0]:
                listed = _coordinated(text, members, answer) if len(members) > 1 else []
                if not listed and answer == anchor and asked.kind in ("person", "place"):
                    # "a countryman of Stalin and Beria": the answer is the pair, not half of it.
                    pair = _coordinated(text, [s for s, _, w in spans if w >= 0.8], answer, joined_by_and=True)
                    listed = pair if len(pair) > 1 else []
                best = (total, Pick(sentence, answer, listed, clause, predicate))
    return best[1] if best else None


def _neighbour_sentences(
    asked: Question, top: ScoredSentence, ranked: list[ScoredSentence], reader: Reader
) -> list[ScoredSentence]:
    """The sentences around the best one, as candidate sources: the answer often sits next
    door ("... a representative of the German Foreign Office. The latter, one Peter Kleist, ...")."""
    seen = {(s.passage.doc, s.start, s.end): s for s in ranked}
    found = []
    for a, b in reader.neighbours.get((top.passage.doc, top.start, top.end), ()):
        key = (top.passage.doc, a, b)
        if key in seen and seen[key] in ranked[:_SENTENCES_FOR_SPANS]:
            continue  # already a candidate source
        passage = seen[key].passage if key in seen else top.passage
        if not (passage.start <= a and b <= passage.end):
            continue  # outside the retrieved passage: no place to cite it from
        own = seen[key].score if key in seen else 0.0
        coverage = _coverage(asked, key, reader)
        found.append(ScoredSentence(passage, a, b, max(own, _neighbour_score(top.score, a > top.start)), top.dense, coverage, top.rank))
    return found


def confidence_features(asked: Question, pick: Pick, sentences: list[ScoredSentence], reader: Reader) -> dict[str, float]:
    """The evidence signals the calibrated confidence is computed from (all about 0..1)."""
    source, has_span, clause = pick.sentence, pick.span is not None, pick.clause
    total = sum(asked.terms.values()) or 1.0
    window = _window_text(source, reader)
    present = sum(1 for e in asked.entities if _mentions(window, e, reader))
    predicate = asked.predicate
    named = _named_words(asked.text)
    window_stems = content_stems(window)
    return {
        "dense": round(source.dense, 4),
        "coverage": round(source.coverage, 4),
        "top_dense": round(max(s.dense for s in sentences), 4),
        "entities_present": present / len(asked.entities) if asked.entities else 1.0,
        "typed_missing": float(asked.kind not in ("reason", "other") and not has_span),
        "unknown_share": round(sum(w for t, w in asked.terms.items() if t not in reader.idf) / total, 4),
        "predicate_coverage": round(
            _coverage(replace(asked, terms=predicate), _key(source), reader) if predicate else 0.0, 4
        ),
        "clause": round(clause, 4),
        "open_question": float(asked.kind in ("reason", "other")),
        # The question names something the corpus never mentions ("Canada", "NATO").
        "unknown_name": float(any(_stem(w.lower()) not in reader.idf for w in named)),
        "predicate_clause": round(pick.predicate_clause, 4),
        "names_present": sum(_stem(w.lower()) in window_stems for w in named) / len(named) if named else 1.0,
        # A name of several words that the corpus never writes ("the Warsaw Pact", "the Korean
        # War"), although each word occurs.
        "unknown_phrase": float(any(not _phrase_known(phrase, reader) for phrase in _name_phrases(asked.text))),
        # A date or a number asked for, and none in the evidence: the sentence cannot hold it.
        "count_missing": float(asked.kind in ("date", "number") and not has_span),
        # The date found belongs to another name than the question's ("the founding of the
        # Cominform ... in the fall of 1947" for "When was the Warsaw Pact founded?").
        "date_unattached": float(
            asked.kind == "date" and has_span and bool(asked.entities)
            and _attached_to(reader.documents[source.passage.doc], source, pick.span, reader) not in asked.entities
        ),
    }
