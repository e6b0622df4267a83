# Cluster guard rails, active only when the executor is `slurm` (profiles/slurm); they do
# nothing in local runs, dry runs and inside jobs (Snakemake runs no hooks there):
#   onstart   every slurm_account and slurm_partition the jobs request is checked with
#             sacctmgr and sinfo, and every slurm_extra with the plugin's validator,
#             before anything is submitted; then the sacct wrapper of
#             workflow/bin goes first on PATH, so that a job stopped with scancel is
#             seen as failed instead of running forever;
#   onerror   the SLURM jobs of the run that did not complete (state, time limit, rule
#   onsuccess or group, retry, SLURM log), which Snakemake does not show for group jobs.
# The functions are in src/implicit_reg/workflow/slurm.py.
from implicit_reg.workflow import slurm
from snakemake.exceptions import WorkflowError


def cluster_onstart(log):
    if slurm.active(workflow):
        problems = slurm.preflight(slurm.requests(workflow))
        problems += slurm.extra_problems(slurm.submitted_jobs(workflow))
        if problems:
            raise WorkflowError(slurm.preflight_message(problems))
        slurm.use_status_wrappers()


def cluster_summary(log):
    if slurm.active(workflow):
        slurm.print_summary(workflow, log)


onstart:
    cluster_onstart(log)


onsuccess:
    cluster_summary(log)


onerror:
    cluster_summary(log)


# Loaded as a module, the hooks above are not registered (slurm.chain_into_main_hooks).
if not workflow.modifier.is_main_snakefile():
    slurm.chain_into_main_hooks(
        workflow,
        {
            "onstart": cluster_onstart,
            "onsuccess": cluster_summary,
            "onerror": cluster_summary,
        },
    )
