"""Dispatch rules (派遣规则): the pure engine (``engine``: rules and ``decide``; ``parsing``: reading and checking a
rule set; ``replay``: comparing two over past cases) and the published versions (``models``, ``service``)."""
