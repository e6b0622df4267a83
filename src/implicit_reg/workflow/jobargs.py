"""The job of a workflow rule as one shell argument, and back.

Every job runs ``python workflow/scripts/<script>.py JOB`` where JOB is a JSON document
(params, wildcards, input, output, threads). Linux limits one argument to 128 KiB
(``MAX_ARG_STRLEN``), and the command is itself one argument of ``bash -c``: a document
above `MAX_INLINE` bytes (the report of a sweep with a few hundred jobs lists them all) is
written to a file named by its hash, and JOB is ``@`` followed by that file's path.
Standard library only: it runs at parse time and first thing in every job.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from implicit_reg.atomic import write_text_atomically

#: Largest JSON document passed inline, in bytes (the whole command must stay < 128 KiB).
MAX_INLINE = 64 * 1024


def encode(document: dict, spill_dir: str | Path, max_inline: int = MAX_INLINE) -> str:
    """``document`` as JSON text, or ``@<file>`` holding it if longer than ``max_inline``.

    The file is named by the SHA-256 of the text and written once (atomic replace), so
    Snakemake re-evaluating the job (dry runs, cluster jobs) finds the same file.
    """
    text = json.dumps(document, default=str)
    if len(text.encode()) <= max_inline:
        return text
    path = Path(spill_dir) / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    if not path.is_file():
        write_text_atomically(path, text)
    return f"@{path}"


def decode(argument: str) -> dict:
    """The document of an `encode` result (JSON text never starts with ``@``)."""
    if argument.startswith("@"):
        return json.loads(Path(argument[1:]).read_text())
    return json.loads(argument)
