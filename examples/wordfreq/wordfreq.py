#!/usr/bin/env python3
"""A tiny stand-in for a data job: reads a corpus, writes the top words."""
import collections
import os
import re
import sys

corpus, out_path = sys.argv[1], sys.argv[2]
top = int(os.environ.get("TOP", "3"))
words = collections.Counter()
for name in sorted(os.listdir(corpus)):
    with open(os.path.join(corpus, name), encoding="utf-8") as f:
        words.update(re.findall(r"[a-z']+", f.read().lower()))
lines = [f"{word} {count}" for word, count in words.most_common(top)]
with open(out_path, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
print(f"{sum(words.values())} words, top {top}: " + ", ".join(w for w, _ in words.most_common(top)))
