# `snakemake` run from the repository root reads this file: the workflow is
# workflow/Snakefile (which the workflow catalog and `module` users name), included here
# so that its relative paths start from workflow/ whichever of the two Snakemake was given.
include: "workflow/Snakefile"


# An included file's `default_target: True` does not survive the include: Snakemake's
# `Workflow.include` (snakemake/workflow.py) saves `self.default_target` before running
# the file and restores it afterwards unless `overwrite_default_target` is set, which it
# is only for the main Snakefile. Rule `all` stays the target of a run from the root.
workflow.default_target = "all"
