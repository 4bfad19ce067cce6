"""The W3C Feed Validation Service over local files, run the way its ``demo.py`` runs it.

Usage: ``python w3c_feed.py VALIDATOR_FOLDER`` with a JSON object ``{path: public URL}`` on
standard input; writes ``{path: [event, ...]}`` as JSON, each event the ones the online
validator shows (``compatibility.AA``: errors and warnings), with its message class, level,
line, column and the validator's own text.

It runs in its own process because the validator is old code on ``sys.path`` (not a package
of ours): its warnings and module state stay out of the test run.
"""

import json
import sys


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    import feedvalidator
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter
    from feedvalidator.logging import Error

    files = json.load(sys.stdin)
    out = {}
    for path, url in files.items():
        with open(path, "rb") as stream:
            try:
                # demo.py: validateStream on the file, the feed's public URL as its base
                # (else every self link "doesn't match document location").
                events = feedvalidator.validateStream(stream, firstOccurrenceOnly=1, base=url)[
                    "loggedEvents"
                ]
            except feedvalidator.logging.ValidationFailure as failure:
                events = [failure.event]
        shown = compatibility.AA(events)
        text = Formatter(shown)
        out[path] = [
            {
                "rule": type(event).__name__,
                "level": "error" if isinstance(event, Error) else "warning",
                "line": event.params.get("line"),
                "column": event.params.get("column"),
                "text": text[index],
            }
            for index, event in enumerate(shown)
        ]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
