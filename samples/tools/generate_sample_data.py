#!/usr/bin/env python3
"""Generates the samples' Prodigy JSONL files from templates, with a fixed seed.

Tokens come from prodigy-build's spaCy-exact English tokenizer, so spans line up with spaCy's tokens
and offsets count Unicode code points, as Prodigy's do. Run from the repository root:

    python3 samples/tools/generate_sample_data.py

(it builds and runs tasks/Prodigy.Build.Tool; pass --tool PATH/Prodigy.Build.Tool.dll to use a built one).
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.dirname(HERE)
REPO = os.path.dirname(SAMPLES)

BRANDS = ["Gucci", "Prada", "Zara", "H&M", "Uniqlo", "Levi's", "Nike", "Adidas", "Balenciaga", "Chanel",
          "Louis Vuitton", "Ralph Lauren", "Tommy Hilfiger", "Calvin Klein", "Dior", "Hermès", "Burberry",
          "Versace", "Mango", "COS", "Patagonia", "The North Face", "Converse", "Dr. Martens", "Saint Laurent"]
ITEMS = ["jacket", "sneakers", "handbag", "jeans", "scarf", "trench coat", "boots", "hoodie", "dress",
         "sunglasses", "belt", "t-shirt", "backpack", "loafers", "parka"]
FASHION = [
    "Just bought a {item} from {b1} and I love it!",
    "Is the {b1} {item} worth the money?",
    "{b1} vs {b2}: which {item} lasts longer?",
    "My {b1} {item} fell apart after two weeks...",
    "Anyone know if {b1} still makes that grey {item}?",
    "Honestly {b1}'s new collection looks like {b2} from 2015.",
    "Found a vintage {b1} {item} at a thrift store for $20.",
    "Why is every influencer wearing {b1} this season?",
    "I'd rather buy one good {item} than five cheap ones.",
    "The {item} I ordered arrived with a broken zip.",
    "Sizing at {b1} runs small, order one size up.",
    "Does {b1} ever go on sale? Asking for a friend.",
    "Wearing my {b1} {item} with a {b2} {item2} today.",
    "Returned the {item}; the fabric felt really thin.",
    "{b1}'s customer service replaced my {item} for free!",
    "What's a good alternative to {b1} for a {item}?",
    "Ugh, my {item} shrank in the wash.",
    "Can't decide between the {b1} and the {b2} {item}.",
]

PRODUCTS = ["Kindle", "iPhone 15", "Galaxy S24", "AirPods", "PlayStation 5", "ThinkPad", "Roomba",
            "Instant Pot", "GoPro", "Apple Watch", "Pixel 8", "Switch OLED"]
COMPANIES = ["Amazon", "Apple", "Samsung", "Sony", "Lenovo", "iRobot", "Google", "Nintendo", "Best Buy",
             "Walmart", "Target", "FedEx", "UPS"]
REVIEWS = {
    "PRAISE": [
        "My {p} from {c} arrived early and works perfectly.",
        "Best purchase this year: the {p} is fantastic.",
        "{c} support sorted out my {p} in ten minutes, great service!",
        "Battery life on the {p} is amazing, easily two days.",
        "Really happy with the {p}; setup took five minutes.",
    ],
    "COMPLAINT": [
        "The {p} I got from {c} stopped charging after a week.",
        "{c} lost my order twice and still won't refund the {p}.",
        "Screen on my {p} cracked on its own. Terrible quality.",
        "Waited 40 minutes on hold with {c} about my {p}.",
        "My {p} keeps disconnecting, so annoying.",
    ],
    "QUESTION": [
        "Does the {p} work with {c}'s older chargers?",
        "Should I buy the {p} now or wait for the {c} sale?",
        "How do I reset a {p} without losing my data?",
        "Is {c} still shipping the {p} to Canada?",
        "Which case fits the {p}?",
    ],
}


def tokenize(texts, tool):
    """Runs prodigy-build tokenize on the texts; returns [(token, start, end, ws)] per text."""
    command = ["dotnet", "exec", tool] if tool else ["dotnet", "run", "-c", "Release", "--project",
                                                     os.path.join(REPO, "tasks", "Prodigy.Build.Tool"), "--"]
    payload = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    result = subprocess.run(command + ["tokenize", "--lang", "en"], input=payload.encode("utf-8"),
                            capture_output=True, check=True)
    out = []
    for line in result.stdout.decode("utf-8").splitlines():
        doc = json.loads(line)
        out.append([(t, i, i + len(t), ws) for t, i, ws in zip(doc["tokens"], doc["idx"], doc["ws"])])
    assert len(out) == len(texts)
    return out


def fill(template, values):
    """Fills {name} slots left to right; returns the text and the character spans of labelled slots."""
    text, spans, pos = "", [], 0
    while True:
        start = template.find("{", pos)
        if start < 0:
            return text + template[pos:], spans
        end = template.index("}", start)
        text += template[pos:start]
        value, label = values[template[start + 1:end]]
        if label:
            spans.append((len(text), len(text) + len(value), label))
        text += value
        pos = end + 1


def int32(text):
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:4], "little", signed=True)


def task_hashes(text, task_key):
    """As Prodigy does: the input hash depends on the text only (so annotations of one text merge), the
    task hash also on the question asked."""
    return int32(text), int32(text + "\u0000" + task_key)


def ner_task(text, spans, tokens, rng):
    starts = {s: i for i, (_, s, _, _) in enumerate(tokens)}
    ends = {e: i for i, (_, _, e, _) in enumerate(tokens)}
    span_objs = []
    for start, end, label in spans:
        if start not in starts or end not in ends:
            raise ValueError(f"span {text[start:end]!r} in {text!r} does not align with spaCy's tokens")
        span_objs.append({"start": start, "end": end, "token_start": starts[start], "token_end": ends[end], "label": label})
    input_hash, task_hash = task_hashes(text, "ner_manual")
    return {
        "text": text,
        "_input_hash": input_hash,
        "_task_hash": task_hash,
        "tokens": [{"text": t, "start": s, "end": e, "id": i, "ws": ws} for i, (t, s, e, ws) in enumerate(tokens)],
        "spans": span_objs,
        "_view_id": "ner_manual",
        "answer": rng.choices(["accept", "reject", "ignore"], weights=[96, 2, 2])[0],
    }


def fashion_examples(rng, count):
    texts, spans = [], []
    seen = set()
    while len(texts) < count:
        b1, b2 = rng.sample(BRANDS, 2)
        item, item2 = rng.sample(ITEMS, 2)
        text, text_spans = fill(rng.choice(FASHION), {
            "b1": (b1, "FASHION_BRAND"), "b2": (b2, "FASHION_BRAND"), "item": (item, None), "item2": (item2, None)})
        if text not in seen:
            seen.add(text)
            texts.append(text)
            spans.append(text_spans)
    return texts, spans


def review_examples(rng, count):
    rows, seen = [], set()
    while len(rows) < count:
        category = rng.choice(sorted(REVIEWS))
        text, text_spans = fill(rng.choice(REVIEWS[category]), {
            "p": (rng.choice(PRODUCTS), "PRODUCT"), "c": (rng.choice(COMPANIES), "ORG")})
        if text not in seen:
            seen.add(text)
            rows.append((text, text_spans, category))
    return rows


def write(path, tasks):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for task in tasks:
            f.write(json.dumps(task, ensure_ascii=False) + "\n")
    print(f"{os.path.relpath(path, REPO)}: {len(tasks)} tasks")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", help="a built Prodigy.Build.Tool.dll (default: dotnet run the project)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    # (a) ner-fashion: training and evaluation sets of gold NER (ner_manual).
    texts, spans = fashion_examples(rng, 400)
    tokens = tokenize(texts, args.tool)
    tasks = [ner_task(t, s, k, rng) for t, s, k in zip(texts, spans, tokens)]
    write(os.path.join(SAMPLES, "ner-fashion", "data", "fashion_train.jsonl"), tasks[:300])
    write(os.path.join(SAMPLES, "ner-fashion", "data", "fashion_eval.jsonl"), tasks[300:])

    # (b) ner-textcat: product reviews with PRODUCT/ORG spans, and the same texts classified (choice).
    rows = review_examples(rng, 300)
    tokens = tokenize([r[0] for r in rows], args.tool)
    write(os.path.join(SAMPLES, "ner-textcat", "data", "reviews_ner.jsonl"),
          [ner_task(text, s, k, rng) for (text, s, _), k in zip(rows, tokens)])
    options = [{"id": c, "text": c.capitalize()} for c in sorted(REVIEWS)]
    choice_tasks = []
    for text, _, category in rows:
        input_hash, task_hash = task_hashes(text, "choice")
        choice_tasks.append({"text": text, "options": options, "_input_hash": input_hash, "_task_hash": task_hash,
                             "_view_id": "choice", "config": {"choice_style": "single"},
                             "accept": [category], "answer": "accept"})
    write(os.path.join(SAMPLES, "ner-textcat", "data", "reviews_textcat.jsonl"), choice_tasks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
