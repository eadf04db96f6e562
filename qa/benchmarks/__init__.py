"""Benchmark runners on standard datasets (SQuAD, CANARD, TREC CAsT, Doc2Dial), used by ``qa eval``.

Not on the query path: imported only by the ``eval`` command.
"""
