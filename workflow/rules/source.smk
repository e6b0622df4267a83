# Where the workflow's own source is, as a local directory (SOURCE), wherever Snakemake
# read this file from, and the package `implicit_reg` importable from SOURCE/src.
#
#   run from a checkout, or as a module from a local path:
#       SOURCE is the checkout itself (workflow/rules/../..).
#   a module from a versioned or remote source (`git+file:///…/workflow/Snakefile@v0.1.0`,
#   `github("owner/implicit-reg", path="workflow/Snakefile", tag="v0.1.0")`, an URL):
#       the files listed in workflow/source-files.txt (the package, the job scripts, the
#       captions, the schemas, docs/science.md) are fetched through Snakemake's source
#       cache (`workflow.source_path`) into .snakemake/implicit_reg/source/<source key>/,
#       a copy laid out as the repository is. Each file is rewritten only when its content
#       changed, so that the copy's files, the `code` inputs of the jobs, keep their
#       modification times from one run to the next and rerun only what changed.
#
# The Snakefiles, `conda` environments and `report` captions need none of this (Snakemake
# reads them relative to the file that names them, from any source). Only the Snakemake
# process that plans the jobs fetches; the processes Snakemake starts for cluster jobs
# (on a shared file system) read the copy the planning process made.
import hashlib
import sys
from pathlib import Path

from snakemake_interface_executor_plugins.settings import ExecMode

# The files of the source tree the parse-time code and the jobs read, one a line,
# relative to the repository root (tests/test_module.py keeps the list complete).
SOURCE_FILES = "../source-files.txt"
SOURCE_COPIES = Path(".snakemake/implicit_reg/source")


def local_source_root():
    """The repository root when this file was read from a local directory, else None."""
    basedir = Path(str(workflow.current_basedir))
    return basedir.parents[1] if basedir.is_dir() else None


def write_if_changed(path, content, executable):
    """Write ``content`` to ``path`` unless it holds it already (its mtime then kept)."""
    if not (path.is_file() and path.read_bytes() == content):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.partial")
        partial.write_bytes(content)
        partial.replace(path)
    if executable:
        path.chmod(0o755)


def fetched_source_root():
    """The local copy of a remote workflow source, brought up to date (see above)."""
    origin = str(workflow.current_basedir)
    root = SOURCE_COPIES / hashlib.sha256(origin.encode()).hexdigest()[:16]
    if workflow.exec_mode != ExecMode.DEFAULT and (root / "src").is_dir():
        return root.absolute()
    listing = Path(workflow.source_path(SOURCE_FILES)).read_text().split()
    for name in listing:
        fetched = Path(workflow.source_path(f"../../{name}"))
        write_if_changed(
            root / name, fetched.read_bytes(), name.startswith("workflow/bin/")
        )
    listed = {root / name for name in listing}
    for stale in [p for p in root.rglob("*") if p.is_file() and p not in listed]:
        stale.unlink()
    (root / "ORIGIN").write_text(f"{origin}\n")
    return root.absolute()


SOURCE = local_source_root() or fetched_source_root()
if str(SOURCE / "src") not in sys.path:
    sys.path.insert(0, str(SOURCE / "src"))
