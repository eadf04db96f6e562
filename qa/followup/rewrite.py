"""The rewrite rules, in order (see ``qa.followup``): ellipsis, left dislocation, bare question
words, pronouns and demonstratives (``references``), generic questions, questions about nobody
in particular (``topic``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from qa.followup.entities import _coordinated, _entities, _mentions, _next_is_noun, _topic
from qa.followup.events import last_event, reads_as_event
from qa.followup.fullnames import with_full_names
from qa.followup.references import points_at_nothing, replace_references
from qa.followup.topic import lacks_a_subject, name_the_kind, opening_name, opening_subject, with_topic
from qa.followup.words import (
    AUXILIARIES,
    GROUP,
    HISTORY_TURNS,
    PERSON,
    PLACE,
    PREPOSITIONS,
    THING,
    WH_WORDS,
    YEAR,
    _ELLIPSIS_OPENERS,
    _FUNCTION_WORDS,
    _GROUP_NOUNS,
    _IMPERSONAL,
    _LEADING_CONNECTIVES,
    _OPENING_SENTENCE,
    _PERSONAL,
    _PLURAL,
    _THING_NOUNS,
    Exchange,
    Lexicon,
    _words,
    asks_for_another,
    is_definition,
)


def resolve(question: str, history: Sequence[Exchange], lexicon: Lexicon = Lexicon()) -> str:
    """The standalone form of ``question`` given the conversation so far (oldest first)."""
    question = " ".join(question.split())
    opener = _OPENING_SENTENCE.match(question)
    if opener:  # "Okay. Did the diet help?": the rest is the question; "Okay." stays as said
        return opener.group() + resolve(question[opener.end() :], history, lexicon)
    return with_full_names(_resolve(question, history, lexicon), history, lexicon)


def _resolve(question: str, history: Sequence[Exchange], lexicon: Lexicon) -> str:
    recent = list(history)[-HISTORY_TURNS:]
    if not question or not recent:
        return question
    last = recent[-1]
    body = _LEADING_CONNECTIVES.sub("", question).strip()
    if _is_ellipsis(question, body, lexicon):
        return _expand_ellipsis(question, last, lexicon)
    dislocated = _LEFT_DISLOCATION.match(body)
    if dislocated:  # "And the other group — where was it formed?" → "Where was the other group formed?"
        phrase, rest = dislocated.group(1), dislocated.group(2)
        return _sentence_case(re.sub(r"\b(?:it|they|he|she|him|them)\b", phrase, rest, count=1))
    if _is_bare_wh(body) or _is_short_wh(body, lexicon):
        return _bare_wh_question(body, last)
    mentions: Counter[str] = Counter()
    topic = _topic(history, lexicon, mentions)  # whom the whole conversation is about, computed once
    # "What else is it fed with?" after "rye flour": the last answer is what "it" is not (a
    # person answered may still be "she": "Who founded it?" … "Who else did she hire?")
    hide = asks_for_another(body) and last.answer_type != "person"
    seen = [*recent[:-1], replace(last, answer=None)] if hide else recent
    rewritten = replace_references(body, seen, lexicon, topic, mentions, history)
    if rewritten is not None:
        return _sentence_case(rewritten)
    if is_definition(body):
        return question
    if _is_generic(body, lexicon):
        event = last_event(last)
        sequel = re.compile(r"\b(?:next|then|afterwards|later)\b", re.IGNORECASE)
        if sequel.search(body) and reads_as_event(last):  # "What happened next?" → "What happened after <event>?"
            return _sentence_case(sequel.sub(f"after {event}", body, count=1))
        if len(_words(body)) <= 3 and not any(w.lower in AUXILIARIES for w in _words(body)) and reads_as_event(last):
            return _sentence_case(f"{body.rstrip('?!. ')} was it that {event}?")  # "For what reasons?"
        if topic is not None and not _mentions(body, topic):
            return _sentence_case(with_topic(body, topic))
        return question
    if lacks_a_subject(body, lexicon, common_nouns=True):  # no name (a year at most), no pronoun
        named = name_the_kind(body, history, lexicon)  # "the band" → "the band Smashing Pumpkins"
        if named is not None:
            return _sentence_case(named)
        names_nothing = lacks_a_subject(body, lexicon)  # not even a common noun phrase
        if not names_nothing:
            # "the children", "the prototypes": theirs only if the conversation opened with
            # the topic's name alone (a title); the most-named person is too often someone else
            title = opening_name(history, lexicon, set(), any_kind=True)
            topic = title if topic is None or (title is not None and title.key == topic.key) else None
        if topic is None and names_nothing and unresolved_reference(body, lexicon) is None:
            # no person and no thing named twice, nor a "that pact" left unplaced: the name the
            # conversation opened with
            opened = opening_subject(history, lexicon, {e.key for e in _entities(body, lexicon)})
            topic = opened if opened is not None and opened.text[:1].isupper() else None
        if topic is not None and not _mentions(body, topic):
            return _sentence_case(with_topic(body, topic))
    return question


def unresolved_reference(question: str, lexicon: Lexicon = Lexicon()) -> str | None:
    """What in ``question`` leans on an earlier turn ("they", "that pact", "And Beria?"), or None
    for a self-contained question. The conversation uses it to say that a follow-up it could not
    rewrite was searched as typed, rather than answer something unrelated in silence."""
    question = " ".join(question.split())
    body = _LEADING_CONNECTIVES.sub("", question).strip()
    if not body:
        return None
    if _is_ellipsis(question, body, lexicon) and _ELLIPSIS_OPENERS.match(question):
        return question.rstrip("?!. ")
    if _is_bare_wh(body) or _is_short_wh(body, lexicon):
        return body.rstrip("?!. ")
    tokens = _words(body)
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.lower in _PERSONAL or token.lower in _PLURAL:
            return token.text
        if token.lower == "it" and not points_at_nothing(tokens, i):
            return token.text
        if token.lower in {"that", "this", "these", "those"} and nxt is not None and _next_is_noun(nxt):
            return f"{token.text} {nxt.text}"
    return None



def _is_ellipsis(question: str, body: str, lexicon: Lexicon) -> bool:
    """"And Beria?", "What about in Asia?", "Beria?": a fragment with no question word or verb."""
    fragment = _ELLIPSIS_OPENERS.sub("", question).strip().rstrip("?!. ").strip()
    opened = fragment != question.rstrip("?!. ").strip()
    words = _words(fragment)
    if not words or words[0].lower in AUXILIARIES or any(w.lower in WH_WORDS for w in words):
        return False
    if opened:
        return len(words) <= 6
    # Without "and"/"what about": only a bare name or prepositional phrase counts ("Beria?").
    return len(words) <= 3 and (bool(_entities(fragment, lexicon)) or words[0].lower in PREPOSITIONS)


_LEFT_DISLOCATION = re.compile(
    r"^((?:the|this|that)\s+[^—:;,?]+?)\s*[—:;,]\s*(?:-\s*)?(\w.*\b(?:it|they|he|she|him|them)\b.*)$", re.IGNORECASE
)


def _is_short_wh(body: str, lexicon: Lexicon) -> bool:
    """"Around whom?", "After whose death?", "On what date?": a fragment asking about the last turn."""
    words = [w.lower for w in _words(body)]
    return (
        2 <= len(words) <= 4
        and words[0] in PREPOSITIONS | {"and"}
        and any(w in WH_WORDS for w in words)
        and not any(w in AUXILIARIES for w in words)
        and not _entities(body, lexicon)
    )


def _is_bare_wh(body: str) -> bool:
    words = [w.lower for w in _words(body)]
    return bool(words) and words[0] in WH_WORDS and all(w in WH_WORDS | {"many", "much", "exactly", "so"} for w in words)


def _is_generic(body: str, lexicon: Lexicon) -> bool:
    """A question with no entity and at most one content word: "What happened next?"."""
    words = _words(body)
    opening = [w.lower for w in words[:2]]
    if not (set(opening) & WH_WORDS) or _entities(body, lexicon):  # "What ...", "For what ..."
        return False
    if any(w.lower in _PERSONAL or w.lower in _PLURAL or w.lower in _IMPERSONAL for w in words):
        return False  # a pronoun that nothing in the conversation explains: leave it be
    content = [w for w in _words(body) if w.lower not in _FUNCTION_WORDS and not w.text.isdigit()]
    return len(content) <= 1


_AUX_QUESTION = re.compile(
    r"^(?:(?:in|on|at|to|from|for|with|by|after|before|around|of|under|during)\s+)?"
    r"(who|whom|whose|what|which|when|where|why|how)(?:\s+(?:many|much|long|far))?(\s+[a-z]+)?\s+"
    r"(did|does|do|was|were|is|are|had|has|have|can|could|would|will)\s+(?!it that\b)(.+)$",
    re.IGNORECASE,
)


def _bare_wh_question(body: str, last: Exchange) -> str:
    """"Why?" after "When did Hitler attack Russia?" → "Why did Hitler attack Russia?";
    "After whose death?" after "Who was promoted ...?" (Vosnesensky) → "After whose death was
    Vosnesensky promoted ...?"; otherwise "When was it that <the last turn>?"."""
    word = body.rstrip("?!. ").strip()
    word = word[0].upper() + word[1:]
    previous = last.question.strip().rstrip("?!. ").strip()
    match = _AUX_QUESTION.match(previous)
    answer = (last.answer or "").strip().rstrip(".")
    if match:
        wh, noun, aux, rest = match.group(1).lower(), match.group(2), match.group(3).lower(), match.group(4)
        subject_question = wh in {"who", "what"} and not noun and previous.lower().startswith(wh)
        if not subject_question:
            # "In which newspaper ...?" answered "Pravda": "On what date did ... in Pravda?"
            opener = re.match(r"^(\w+)\s+(?:which|what)\s", previous, re.IGNORECASE)
            if opener and opener.group(1).lower() in PREPOSITIONS and answer and len(answer.split()) <= 4:
                return f"{word} {aux} {rest} {opener.group(1).lower()} {answer}?"
            return f"{word} {aux} {rest}?"
        if answer and len(answer.split()) <= 6:  # "Who was promoted" → "... was Vosnesensky promoted"
            return f"{word} {aux} {answer} {rest}?"
        if not answer:
            return f"{word} {aux} {rest}?"
    return f"{word} was it that {last_event(last)}?"


def _expand_ellipsis(question: str, last: Exchange, lexicon: Lexicon) -> str:
    fragment = _ELLIPSIS_OPENERS.sub("", question).strip().rstrip("?!. ").strip()
    fragment = re.sub(r"^(?:about|regarding)\s+", "", fragment, flags=re.IGNORECASE)
    base = last.question.strip().rstrip("?!. ").strip()
    words = _words(fragment)
    if not words:
        return question
    first = words[0].lower
    if first in PREPOSITIONS:
        # "in Asia" replaces "in Europe"; otherwise the phrase is added.
        heads = "|".join(sorted(_GROUP_NOUNS | _THING_NOUNS))
        phrase = re.compile(
            rf"\b{re.escape(first)}\s+(?:the\s+)?(?:[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*(?:\s+(?:{heads})\b)?|\d{{4}})"
        )
        if phrase.search(base):
            return phrase.sub(fragment, base, count=1) + "?"
        return f"{base} {fragment}?"
    new = _coordinated(fragment, _entities(fragment, lexicon))
    if not new:
        return f"{base} — {fragment}?"
    target = new[0]
    old = [e for e in _coordinated(base, _entities(base, lexicon)) if e.key != target.key]
    same_kind = [e for e in old if e.kind == target.kind]
    if not same_kind and target.kind in {PERSON, GROUP, THING}:
        same_kind = [e for e in old if e.kind in {PERSON, GROUP, THING}]
    if same_kind:
        victim = same_kind[0]
        start = victim.start - (len(victim.determiner) + 1 if victim.determiner else 0)
        replacement = fragment if target.kind != YEAR else target.text
        return base[:start] + replacement + base[victim.end :] + "?"
    if target.kind == YEAR:
        return f"{base} in {target.text}?"
    if target.kind == PLACE:
        # "the Asian line" + "What about Europe?" → "the line in Europe"
        adjective = re.search(r"\b([A-Z][a-z]+(?:an|ean|ian|ese|ish))\s+", base)
        if adjective and any(adjective.group(1).lower().startswith(place[:4]) for place in lexicon.places):
            return f"{base[: adjective.start()]}{base[adjective.end() :]} in {target.text}?"
    return f"{base} — {fragment}?"


def _sentence_case(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] if text else text
