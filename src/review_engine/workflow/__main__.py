"""`python -m review_engine.workflow` prints docs/workflow.md."""

import sys

from review_engine.workflow.docs import render_docs

sys.stdout.write(render_docs())
