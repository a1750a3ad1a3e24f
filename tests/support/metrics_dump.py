"""Parses a Prometheus text-format file with prometheus_client's parser and prints one line per
sample: NAME{label=value,...} VALUE (labels sorted). Exits 1 when the file does not parse.

Usage: python3 metrics_dump.py FILE
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1]) as f:
    text = f.read()
try:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join("%s=%s" % (k, v) for k, v in sorted(sample.labels.items()))
            print("%s{%s} %r %s" % (sample.name, labels, float(sample.value), family.type))
except Exception as error:  # the parser raises ValueError and others on bad input
    print("parse error: %s" % error, file=sys.stderr)
    sys.exit(1)
