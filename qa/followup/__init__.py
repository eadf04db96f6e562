"""Follow-up questions → standalone questions, by rules (no generative model exists offline).

``resolve(question, history, lexicon)`` rewrites a question that depends on the conversation
("Which post did he hold before that?", "And Beria?", "What about in Asia?") into one that can
be searched on its own, and returns a self-contained question unchanged. It is a pure function
of its arguments, so it is tested on many cases without the model.

The rules, in order:

1. No history, or nothing in the question points back → unchanged (a leading "And" is only
   dropped when something else is rewritten).
2. Ellipsis — "And X?", "What about X?", "How about in Asia?", or a bare name: the previous
   standalone question is reused with X in place of the entity of the same kind (person, place,
   group, thing, year; "Malenkov and Beria" replaces "Zhdanov and Molotov"; a prepositional
   "in Asia" replaces "in Europe"; a place replaces its adjective, "the Asian line" → "the line
   in Europe"), or X is appended.
3. Left dislocation: "And the other group — where was it formed?" → "Where was the other group
   formed?".
4. A bare or short question-word fragment ("Why?", "When exactly?", "Around whom?", "After whose
   death?") is asked again on the previous question: "After whose death was Vosnesensky
   promoted ...?" (the answer fills a "Who ...?" subject), else "When was it that <event>?".
5. Pronouns: he/him/his/she/her → the person the previous rewrite brought in (the topic: "he" in
   "Which post did he hold?" stays Dekanosov even after the answer "Stalin"), if the pronoun
   fits, else the most recent person; they/them/their → the most recent group (a list answer,
   "the Zhdanov group", "Lenin's two interviews"), else person, and in a conversation where no
   one has been he or she, the name it opened with rather than a lower-case plural ("they"
   about Blink-182 is not "the legal battles"), and where the newest is one name that is no group
   nor a list ("Sue", the album "Uncle Charlie"), the name the conversation opened with alone; it/its → the one title a short last
   answer quotes ('Kaif appeared in "Chikni Chameli"'), unless the last question named a thing of
   its own; else the last answer when it is a thing, else the thing the recent turns mention most ("the Cominform"), else, when no
   question so far has said he or she, the one name the conversation opened with (its first
   question, or in CANARD the article's title: "Was it popular?" → "Was Gypsy popular?"; a
   name the name table types as a person is never "it"), else it stays (splicing in the last
   turn's words read worse than the human rewrites of CANARD and CAsT);
   with no person in the recent turns, he/she is the person the conversation is about, when two
   turns named them, else the name it opened with alone (a title, however typed, unless it has
   an article: "the Verve"); "there" → "in <place>". A question for what a bare term means ("What is
   primatology?") gets nothing added. Candidates come from the last three turns, newest first: the answer
   when it names something, then the entities of that turn's standalone question. Only the
   first pronoun of each referent is replaced, so the result still reads naturally; a possessive
   after "Who <verb>" belongs to the asker ("Who told of it in his book?") and stays, as does
   "his"/"her" after a person the question names ("Did Molotov keep his post?"). In a question
   for another answer (``asks_for_another``: "What else is it fed with?", "Which other …?"),
   the last answer is not a candidate unless it was a person (it is what is asked beyond);
   ``Conversation`` also keeps the reader's answer off the recent turns' answers.
6. Demonstratives: "that body" right after "Which body ...?" → the answer; "that pact" → the
   nearest "X pact" mentioned in the recent questions, answers or cited quotes ("the
   Hitler-Stalin pact"); "that movie", "this album" → the title the last turn named ("the
   movie Camp Nowhere", ``demonstratives``); a bare "that" ("before that") → the previous
   turn as a clause ("before he was brought into the Foreign Commissariat ...").
7. A generic question with no entity or pronoun of its own ("What happened next?", "For what
   reasons?") gets the previous event: "What happened after Molotov replaced Litvinov?", when
   that turn reads as a clause (not "Are there any other …?" or "Can you tell me …?"). A
   question that names nothing and points at no one ("What happened in 1982?") is asked about
   the conversation's topic ("… to Gus Van Sant …", "Who raised the child of Marion Davies?",
   else "… for Frank Zappa?" at the end), or, with no such topic, about the name it opened
   with; one that names only common nouns ("Who were the founding members?") gets the name the
   conversation opened with alone (a title, "Wu-Tang Clan"; "Slipknot (band)" counts as
   "Slipknot"), when it is still the topic or there is none; one that speaks of "the band", "the film"
   and the like, in a conversation where no one is "he" or "she", names what the conversation
   opened with, whatever common nouns stand beside it: "When did the band form?" → "When did the
   band Fleet Foxes form?", "Who were the original members of the band Skunk Anansie?" (``topic``).
8. Last, a surname or a first name alone becomes the full name the conversation used ("When did
   Wilson die?" about Carl Wilson → "When did Carl Wilson die?"; "Was Ben a writer?" → "Was Ben
   Stein a writer?"), when one full name of the conversation ends (or starts) with it and the
   question gives no other part of a name beside it.

Names are recognised without a NER model: runs of capitalised words (joined across "of",
"on" and "&": "Fiddler on the Roof", unless the name table ends the name sooner, and across
particles: "Van der Graaf Generator"), checked against a ``Lexicon`` of
the capitalised words the corpus itself uses mid-sentence (so "Who" or "Which" are never names)
and typed by the corpus's name table when it has one (``names.json``: person, place,
organisation, work), else by how the corpus uses them ("the Politburo" → thing, "in Asia" →
place). Lower-case phrases with a known head noun ("the other group", "that note") count too.
"""

from qa.followup.rewrite import resolve, unresolved_reference
from qa.followup.words import (
    asks_for_another,
    GAZETTEER_KINDS,
    GROUP,
    HISTORY_TURNS,
    PERSON,
    PLACE,
    THING,
    YEAR,
    Entity,
    Exchange,
    Lexicon,
)

__all__ = [
    "GAZETTEER_KINDS", "GROUP", "HISTORY_TURNS", "PERSON", "PLACE", "THING", "YEAR",
    "Entity", "Exchange", "Lexicon", "asks_for_another", "resolve", "unresolved_reference",
]
