"""The workflow's side of the package: code that runs inside the Snakemake process.

Reading and checking the configuration (`configcheck`, `checks`), the configuration
reference (`configdoc`), the figure captions (`captions`), the rerun triggers
(`imports`), the job argument (`jobargs`), the provenance check of ``--report``
(`provenance`), the SLURM guards (`slurm`), the scheduler's exit (`schedulerexit`):
standard library, PyYAML and jsonschema only, no numpy, since every ``snakemake`` start
imports them. `jobargs` is also read by the jobs; `report` assembles the HTML report in
the report job.
"""
