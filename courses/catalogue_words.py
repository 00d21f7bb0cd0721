"""The words the benchmark catalogue's titles are made of: used by
`generate_catalogue` to build it and by `tests/perf/bench_mix.py` to search it.
Imports nothing, so the benchmark can read it without setting up Django."""

WORDS = [
    "safeguarding",
    "leadership",
    "phonics",
    "maths",
    "wellbeing",
    "prescribing",
    "spirometry",
    "autism",
    "inclusion",
    "assessment",
    "oracy",
    "resilience",
    "cyber",
    "governance",
    "curriculum",
    "diabetes",
    "asthma",
    "coaching",
    "mentoring",
    "behaviour",
    "attendance",
    "finance",
    "reading",
    "writing",
    "science",
]
