"""Short texts a person reads in a list, taken from the longer ones the suite writes."""

import re

# a sentence ends at . ! ? followed by a space and a capital, a quote or a parenthesis;
# "10.18", "DEMO3/OUT/00002" or "ship_to.phone" do not end one
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(«“])")
MIN_LENGTH = 40  # "Gave up after 5 attempts." says too little alone: the next sentence follows


def first_sentence(text, limit=180):
    """The business reason at the head of ``text``: its first paragraph's first line, cut
    after its first sentence (with the next one when the first is very short), a trailing
    colon dropped, at most ``limit`` characters (cut at a word, with "…")."""
    if not text:
        return ""
    head = text.strip().split("\n\n", 1)[0].split("\n", 1)[0].strip()
    sentences = _SENTENCE_END.split(head)
    summary = sentences[0]
    for sentence in sentences[1:]:
        if len(summary) >= MIN_LENGTH:
            break
        summary = f"{summary} {sentence}"
    summary = summary.rstrip(" :")
    if len(summary) > limit:
        summary = summary[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return summary
