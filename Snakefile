# `snakemake` run from the repository root reads this file: the workflow is
# workflow/Snakefile (which the workflow catalog and `module` users name), included here
# so that its relative paths start from workflow/ whichever of the two Snakemake was given.
include: "workflow/Snakefile"


# An included file's `default_target: True` does not survive the include (Snakemake's
# `Workflow.include` restores the including file's default target afterwards, unless it
# is the main Snakefile: snakemake/workflow.py, `include`, `overwrite_default_target`):
# the default target of a run from the root is named here.
rule default:
    default_target: True
    input:
        rules.all.input,
    localrule: True
