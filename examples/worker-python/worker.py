"""A Resumable worker: loads a (toy) model once, then answers unit after unit.

The runner starts it with `run.worker` (eval.experiment.json) and puts the folder of
resumable_worker.py on PYTHONPATH, so nothing needs installing. Each unit is one item × one
matrix cell: `u.item` is a line of items.jsonl, `u.matrix["model"]` is "small" or "large".
"""

import difflib
import os
import re
import sys
import time

from resumable_worker import RateLimitError, serve, unit

FACTS = {
    "What is the capital of France?": "Paris",
    "What is the capital of Japan?": "Tokyo",
    "What is the capital of Australia?": "Sydney",  # a classic mistake, made by both models
    "What is the capital of Canada?": "Ottawa",
    "What is the chemical symbol for gold?": "Au",
    "How many legs does a spider have?": "8",
    "What is the largest planet in the solar system?": "Jupiter",
    "Who wrote Hamlet?": "William Shakespeare",
    "At how many degrees Celsius does water boil at sea level?": "100",
    "What color do you get by mixing blue and yellow?": "green",
    "How many continents are there?": "7",
    "What is the square root of 81?": "9",
    "What is the longest river in Africa?": "Nile",
    "What is the smallest prime number?": "2",
}
# The small model has not heard of these.
SMALL_GAPS = {"What is the capital of Canada?", "What is the largest planet in the solar system?", "What is the longest river in Africa?"}
PRICE_PER_TOKEN = {"small": 0.000001, "large": 0.00001}
ARITHMETIC = re.compile(r"What is (\d+) ([-+*]) (\d+)\?")


def load_model():
    """Stands in for loading weights: slow, done once per worker process."""
    print(f"worker {os.environ.get('RESUMABLE_WORKER', '?')}: loading model…", file=sys.stderr, flush=True)
    time.sleep(1.5)
    small = {q: a for q, a in FACTS.items() if q not in SMALL_GAPS}
    return {"small": small, "large": dict(FACTS)}


MODEL = load_model()  # print() is safe even here: it goes to the log, never to the protocol


def answer(size, question):
    m = ARITHMETIC.fullmatch(question)
    if m:
        a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
        exact = a + b if op == "+" else a - b if op == "-" else a * b
        # The small model rounds anything past two digits to the nearest ten.
        return str(exact if size == "large" or exact < 100 else round(exact, -1))
    return MODEL[size].get(question, "I don't know")


def demo_rate_limit_once(u):
    """One unit is answered "429 Too Many Requests" once, to show the run's pause and retry."""
    if u.id != "q07/large":
        return
    try:  # a marker in the unit's folder: the retry (and a resumed run) gets through
        os.close(os.open(os.path.join(u.unit_dir, "demo-429-sent"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    raise RateLimitError("429 Too Many Requests (demo)", retry_after=2)


@unit
def evaluate(u):
    demo_rate_limit_once(u)
    size = u.matrix["model"]
    time.sleep(0.05 if size == "small" else 0.15)  # "inference"
    question, expected = u.item["question"], u.item["expected"]
    got = answer(size, question)
    passed = got.strip().lower() == expected.strip().lower()
    print(f"{u.id}: {question!r} -> {got!r} ({'ok' if passed else 'expected ' + repr(expected)})")
    tokens = len(question.split()) + len(got.split())
    return {
        "passed": passed,
        "answer": got,
        "score": round(difflib.SequenceMatcher(None, got.lower(), expected.lower()).ratio(), 3),
        "usage": {"tokens": tokens, "costUSD": round(tokens * PRICE_PER_TOKEN[size], 8)},
    }


if __name__ == "__main__":
    serve(evaluate)
