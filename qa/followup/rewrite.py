"""The rewrite rules, in order (see ``qa.followup``): ellipsis, left dislocation, bare question
words, pronouns and demonstratives, generic questions, questions about nobody in particular."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from qa.followup.words import (
    AUXILIARIES,
    Entity,
    Exchange,
    GROUP,
    HISTORY_TURNS,
    Lexicon,
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
    _POSSESSIVE,
    _SUBJECT,
    _THING_NOUNS,
    _Token,
    _words,
    is_definition,
)
from qa.followup.fullnames import with_full_names
from qa.followup.events import last_event, reads_as_event
from qa.followup.topic import lacks_a_subject, name_the_kind, opening_subject, with_topic
from qa.followup.entities import (
    _question_entities,
    _answer_entity,
    _answer_for_noun,
    _find_mention,
    _candidates,
    _coordinated,
    _entities,
    _mentions,
    _next_is_noun,
    _pick,
    _pick_it,
    _topic,
    _topic_people,
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
    rewritten = _replace_references(body, recent, lexicon, topic, mentions, history)
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
    if lacks_a_subject(body, lexicon):
        named = name_the_kind(body, history, lexicon)  # "the band" → "the band Smashing Pumpkins"
        if named is not None:
            return _sentence_case(named)
        if topic is None and unresolved_reference(body, lexicon) is None:
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
        if token.lower == "it" and not _points_at_nothing(tokens, i):
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


# --- entities ----------------------------------------------------------------------------------


def _replace_references(
    body: str, history: Sequence[Exchange], lexicon: Lexicon, main: Entity | None = None,
    mentions: Counter[str] | None = None, whole: Sequence[Exchange] = (),
) -> str | None:
    """Pronouns and demonstratives replaced by what they point to; None when there are none.
    ``main`` is the conversation's topic, ``mentions`` how many questions named each entity and
    ``whole`` the whole conversation (``history`` is its recent turns)."""
    mentions = mentions if mentions is not None else Counter()
    tokens = _words(body)
    own_entities = _entities(body, lexicon)
    own = {e.key for e in own_entities}
    candidates = [c for c in _candidates(history, lexicon) if c.key not in own]
    topic, topic_pronouns = _topic_people(history[-1], lexicon)
    topic = [c for c in topic if c.key not in own]
    replacements: list[tuple[int, int, str]] = []
    named: dict[str, str] = {}  # referent key → the pronoun the user used for it
    last = history[-1]
    # "Who told of it in his book?": a possessive after "Who <verb>" before what one says or
    # writes is the subject's own; "Who took over after his death?" points back.
    bound_possessives = len(tokens) > 1 and tokens[0].lower == "who" and tokens[1].lower not in AUXILIARIES
    for i, token in enumerate(tokens):
        word = token.lower
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        text_after = body[token.end :].lstrip()
        if word in _PERSONAL or word in _PLURAL or word in _IMPERSONAL:
            if bound_possessives and (word in _POSSESSIVE or word == "her") and _says_own(tokens[i + 1 :]):
                continue
            # "Did McMahon speak about his time on the show?": his/her after a person the
            # question names is that person's.
            if (word == "his" or (word == "her" and _next_is_noun(nxt))) and any(
                    e.kind == PERSON and e.end <= token.start for e in own_entities):
                continue
            if word == "it" and _points_at_nothing(tokens, i):
                continue
            if word in _IMPERSONAL:
                referent = _pick_it(history, lexicon, own) or opening_subject(whole or history, lexicon, own)
            elif word in _PERSONAL and topic and word in topic_pronouns:
                referent = topic[0]
            else:
                referent = _pick(word, candidates)
                if word in _PLURAL and (referent is None or referent.text[:1].islower()):
                    # "they" in a conversation about a band is the band, not "the legal battles"
                    referent = opening_subject(whole or history, lexicon, own) or referent
                # the last answer, when the last question asked for a person ("Who did she marry?")
                answered = _answer_entity(last, lexicon) if _asks_for_a_person(last) else None
                # "he" is the person the conversation is about, not someone a question once
                # mentioned in passing (unless the last answer was that person).
                if (word in _PERSONAL and main is not None and main.kind == PERSON and referent is not None
                        and referent.key != main.key and main.key not in own
                        and (answered is None or answered.key != referent.key)
                        and mentions[main.key] >= 2 and mentions[main.key] > mentions[referent.key]
                        # still the topic: the last question named them, or named no one else
                        and (main.key in (asked := {e.key for e in _question_entities(last, lexicon)})
                             or referent.key not in asked)):
                    referent = main
            if (referent is None and word in _PERSONAL and main is not None and main.kind == PERSON
                    and main.key not in own and mentions[main.key] >= 2):
                referent = main  # no one in sight: the person the conversation is about
            if referent is None:
                continue
            if referent.key in named:
                continue
            named[referent.key] = word
            possessive = word in _POSSESSIVE or (word == "her" and _next_is_noun(nxt))
            text = referent.surface + ("'s" if possessive else "")
            replacements.append((token.start, token.end, text))
        elif word == "there" and not (nxt is not None and nxt.lower in AUXILIARIES | {"be"}) and not (
            i > 0 and tokens[i - 1].lower in AUXILIARIES
        ):
            place = next((c for c in candidates if c.kind == PLACE), None)
            if place is not None:
                replacements.append((token.start, token.end, f"in {place.surface}"))
        elif word in {"that", "this", "these", "those"}:
            if nxt is not None and _next_is_noun(nxt) and text_after.startswith(nxt.text):
                mention = _answer_for_noun(nxt.lower, last) or _find_mention(nxt.lower, history)
                if mention:
                    replacements.append((token.start, nxt.end, mention))
            elif (not text_after or text_after[0] in "?!.,;") and reads_as_event(last):
                event = last_event(last)
                before = tokens[i - 1].lower if i > 0 else ""
                if before in {"is", "was"}:
                    replacements.append((token.start, token.end, f"it that {event}"))
                elif before in PREPOSITIONS:
                    replacements.append((token.start, token.end, event))
                else:
                    replacements.append((token.start, token.end, f"that {event}"))
    if not replacements:
        return None
    text = body
    for start, end, new in sorted(replacements, reverse=True):
        text = text[:start] + new + text[end:]
    return _pronoun_for_repeated_subject(text, named, candidates)


def _asks_for_a_person(exchange: Exchange) -> bool:
    """"Who did she partner with?" does; "What were some of the song titles?" does not."""
    first = exchange.question.split(maxsplit=1)[0].lower() if exchange.question.strip() else ""
    return exchange.answer_type == "person" or first in {"who", "whom", "whose", "with"}


_OWN_WORDS = {
    "book", "books", "memoirs", "memoir", "diary", "autobiography", "speech", "address", "letter",
    "letters", "article", "report", "interview", "testimony", "account", "essay", "words", "statement",
}


def _says_own(following: list[_Token]) -> bool:
    """The possessive is before something one says or writes ("his main address", "her memoirs")."""
    for token in following[:3]:
        if token.lower in _OWN_WORDS:
            return True
        if not token.text.isalpha() or token.lower in _FUNCTION_WORDS:
            return False
    return False


def _points_at_nothing(tokens: list[_Token], i: int) -> bool:
    """An "it" (``tokens[i]``) that refers to nothing: "it that ...", "is it true/possible/likely",
    or a cleft, "Was it Beria who ...?" (right after the verb, completed by a later who/that;
    "Was it successful?" does point at something)."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is not None and nxt.lower in {"that", "who", "true", "possible", "likely"}:
        return True
    return i == 1 and tokens[0].lower in AUXILIARIES and any(t.lower in {"who", "that"} for t in tokens[2:])


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


def _pronoun_for_repeated_subject(text: str, named: dict[str, str], candidates: list[Entity]) -> str:
    """"... did Dekanosov hold before Dekanosov was brought ..." → "... before he was brought ..."."""
    for candidate in candidates:
        pronoun = named.get(candidate.key)
        if pronoun not in _SUBJECT:
            continue
        first = text.find(candidate.surface)
        second = text.find(candidate.surface + " ", first + len(candidate.surface)) if first >= 0 else -1
        if second > 0:
            text = text[:second] + pronoun + text[second + len(candidate.surface) :]
    return text


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
