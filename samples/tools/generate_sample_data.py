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

# Product reviews for ner-textcat: written to be hard in the ways real reviews are. The category is
# what a reader would say the review is mainly doing, so mixed reviews exist ("love it, but ..."),
# questions can be complaints in disguise ("why does it keep ...?"), and the same words serve both;
# about 8% of the labels are changed as a second annotator would have changed them. Names are
# ambiguous too: products named with common words (Echo, Surface, Switch, Nest, Ring), companies that
# share a product's name (Ring, Nest), lowercase mentions, and many names seen only once or twice.
PRODUCTS = ["Kindle", "Kindle Paperwhite", "iPhone 15", "iPhone 13 mini", "Galaxy S24", "Galaxy Buds", "AirPods",
            "AirPods Pro", "PlayStation 5", "ThinkPad", "ThinkPad X1", "Roomba", "Instant Pot", "GoPro",
            "Apple Watch", "Pixel 8", "Pixel Buds", "Switch", "Switch OLED", "Echo", "Echo Dot", "Surface",
            "Surface Pro 9", "Nest thermostat", "Ring doorbell", "Fire TV Stick", "MacBook Air", "iPad",
            "Quest 3", "Steam Deck", "Fitbit Charge 6", "Dyson V15", "Vitamix", "Chromecast", "Roku",
            "Oculus", "Xbox", "Walkman", "Bose QC45", "XPS 13", "Note 20", "Razr", "Echo Show", "Blink camera"]
COMPANIES = ["Amazon", "Apple", "Samsung", "Sony", "Lenovo", "iRobot", "Google", "Nintendo", "Best Buy",
             "Walmart", "Target", "FedEx", "UPS", "Microsoft", "Dell", "Dyson", "Bose", "Ring", "Nest",
             "Meta", "Valve", "Costco", "eBay", "DHL", "Verizon", "Motorola", "Fitbit", "Newegg"]
GOOD = ["the battery lasts two full days", "setup took five minutes", "it is fast and quiet",
        "the screen is gorgeous", "it just works", "the sound is much better than I expected",
        "it was worth every penny", "the build quality feels premium", "my kids love it",
        "it replaced three other gadgets", "the camera is superb in low light", "it charges quickly"]
BAD = ["the battery dies by lunchtime", "it stopped charging after a week", "the screen cracked on its own",
       "it keeps disconnecting", "the fan is loud", "it arrived with a dent", "the app crashes constantly",
       "it overheats when charging", "the buttons feel cheap", "it froze during an update",
       "half the features need a subscription", "the speaker crackles"]
SERVICE_GOOD = ["{c} replaced it with no questions asked", "{c} refunded me the same day",
                "support at {c} sorted it out in ten minutes", "{c} delivered a day early"]
SERVICE_BAD = ["{c} lost my order twice", "I waited 40 minutes on hold with {c}", "{c} still hasn't refunded me",
               "{c} shipped the wrong colour", "{c} says it is out of warranty"]
ASKS = ["does the {p} work with older chargers", "should I buy the {p} now or wait for the {c} sale",
        "how do I reset a {p} without losing my data", "is {c} still shipping the {p} to Canada",
        "which case fits the {p}", "can the {p} be repaired", "is the {p} worth it over last year's model",
        "does {c} price match", "will the {p} get another update", "how long does {c} take to ship"]
# Questions that are really complaints, and statements that ask (how people actually write).
RHETORICAL = ["why does my {p} keep restarting", "how is the {p} this bad after two updates",
              "who at {c} thought this was acceptable", "why would anyone pay this much for the {p}"]
PLAIN_ASKS = ["wondering if the {p} fits in a coat pocket", "not sure whether to return the {p} or wait for a fix",
              "trying to figure out if {c} ships to Ireland", "looking for a charger that works with the {p}"]
OPENERS = ["", "", "", "Honestly, ", "Update: ", "Two weeks in: ", "So ", "Ok, ", "Quick one: "]


def upper_first(text):
    return text[0].upper() + text[1:]


# Product lines and model names combine, so most products in the evaluation split are names training
# never saw in full ("Galaxy Tab S9", "Pixel 7a").
LINES = ["Pixel", "Galaxy", "Galaxy Tab", "Echo", "Surface", "ThinkPad", "Kindle", "Switch", "Xperia", "Zenbook",
         "Yoga", "Aspire", "Inspiron", "Moto", "Watch", "Buds", "Fire", "Legion", "Spectre", "Envy"]
MODELS = ["", "", "2", "3", "7a", "8", "8 Pro", "S9", "S23 Ultra", "Plus", "Max", "Go", "Lite", "X1", "Gen 2", "Fold 5", "mini", "Air"]
# Everyday words that are also product names: in these clauses they are not entities.
DISTRACTORS_BAD = ["there is an echo on every call", "the surface scratches easily", "I had to switch back to my old phone",
                   "the fire alarm app keeps going off", "it goes dead when I switch apps"]
DISTRACTORS_GOOD = ["the switch from my old laptop was painless", "the ring light is handy", "the surface feels smooth",
                    "the echo cancellation on calls is excellent"]
GOOD += DISTRACTORS_GOOD
BAD += DISTRACTORS_BAD


def product(rng):
    """A product name: one of the known ones, or a product line with a model."""
    if rng.random() < 0.45:
        return rng.choice(PRODUCTS)
    return (rng.choice(LINES) + " " + rng.choice(MODELS)).strip()


def mention(rng, name):
    """How people type names: mostly as written, sometimes lowercase."""
    return name.lower() if rng.random() < 0.12 else name


def review_examples(rng, count):
    """(text, [(start, end, label)], category) for product reviews with realistic overlap."""
    rows, seen = [], set()
    while len(rows) < count:
        p = mention(rng, product(rng))
        c = rng.choice(COMPANIES)
        kind = rng.choices(["praise", "complaint", "mixed_good", "mixed_bad", "question", "rhetorical", "plain_ask", "service"],
                           weights=[20, 20, 10, 14, 14, 7, 6, 9])[0]
        if kind == "praise":
            template, category = rng.choice(["Love my {p}, " + rng.choice(GOOD) + ".", "The {p} is great: " + rng.choice(GOOD) + ".",
                                             upper_first(rng.choice(GOOD)) + " on the {p}.", "Got the {p} from {c} and " + rng.choice(GOOD) + "."]), "PRAISE"
        elif kind == "complaint":
            template, category = rng.choice(["My {p} is a letdown, " + rng.choice(BAD) + ".", upper_first(rng.choice(BAD)) + " on my {p}.",
                                             "Bought the {p} at {c} and " + rng.choice(BAD) + ".", "Avoid the {p}: " + rng.choice(BAD) + "."]), "COMPLAINT"
        elif kind == "mixed_good":
            # Mostly happy with one flaw: most annotators say praise.
            template = "The {p} is great, " + rng.choice(GOOD) + ", though " + rng.choice(BAD) + "."
            category = "PRAISE" if rng.random() < 0.75 else "COMPLAINT"
        elif kind == "mixed_bad":
            # A good word, then the problem that matters.
            template = rng.choice(["I wanted to like the {p} and " + rng.choice(GOOD) + ", but " + rng.choice(BAD) + ".",
                                   "Sure, " + rng.choice(GOOD) + ", but " + rng.choice(BAD) + " on my {p}."])
            category = "COMPLAINT" if rng.random() < 0.8 else "PRAISE"
        elif kind == "question":
            template, category = upper_first(rng.choice(ASKS)) + "?", "QUESTION"
        elif kind == "rhetorical":
            template = upper_first(rng.choice(RHETORICAL)) + rng.choice(["?", "??", "?!"])
            category = "COMPLAINT" if rng.random() < 0.7 else "QUESTION"
        elif kind == "plain_ask":
            template = upper_first(rng.choice(PLAIN_ASKS)) + rng.choice([".", "", " - any ideas."])
            category = "QUESTION" if rng.random() < 0.8 else "COMPLAINT"
        else:
            good = rng.random() < 0.5
            template = "Ordered the {p}. " + upper_first(rng.choice(SERVICE_GOOD if good else SERVICE_BAD)) + "."
            category = "PRAISE" if good else "COMPLAINT"
        opener = rng.choice(OPENERS)
        if opener and not template.startswith(("How", "Why", "Who", "I ", "{")):
            template = opener + template[0].lower() + template[1:]
        if rng.random() < 0.08:
            # A second annotator's reading.
            category = rng.choice([x for x in ["PRAISE", "COMPLAINT", "QUESTION"] if x != category])
        text, text_spans = fill(template, {"p": (p, "PRODUCT"), "c": (c, "ORG")})
        if rng.random() < 0.05 and text_spans:
            # A mention the annotator missed.
            text_spans = text_spans[1:]
        elif rng.random() < 0.04 and text_spans and " " in text[text_spans[0][0]:text_spans[0][1]]:
            # A span one word short ("Galaxy" of "Galaxy S9"), as hurried annotators leave them.
            start, end, label = text_spans[0]
            text_spans = [(start, text.index(" ", start), label)] + text_spans[1:]
        if text not in seen:
            seen.add(text)
            rows.append((text, text_spans, category))
    return rows


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
    rows = review_examples(rng, 600)
    tokens = tokenize([r[0] for r in rows], args.tool)
    write(os.path.join(SAMPLES, "ner-textcat", "data", "reviews_ner.jsonl"),
          [ner_task(text, s, k, rng) for (text, s, _), k in zip(rows, tokens)])
    options = [{"id": c, "text": c} for c in ["COMPLAINT", "PRAISE", "QUESTION"]]
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
