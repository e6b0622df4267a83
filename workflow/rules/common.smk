# Helpers only: grid expansion, paths, seeds. Rules live in the other rule files.
import shlex

from snakemake_interface_executor_plugins.settings import DeploymentMethod

from implicit_reg.grid import canonical, grid_points
from implicit_reg.workflow.captions import caption_needs
from implicit_reg.workflow.checks import families
from implicit_reg.workflow import imports, jobargs
from snakemake.io import report as report_flag  # `report(` would read as a directive

SRC = ROOT / "src" / "implicit_reg"
CAPTIONS = ROOT / "workflow" / "report"
# What the jobs import, for `--sdm conda` (the development environment is environment.yml).
ENVIRONMENT = str(ROOT / "workflow" / "envs" / "run.yaml")
# Every mapping at the top level of the validated config, but `limits`, is a family.
FAMILIES = families(config)
REPORT = "results/report/index.html"
CLAIMS_CHECK = "results/claims/check.tsv"
CLAIMS_TABLE = "results/claims/claims.html"
SCRIPTS = ROOT / "workflow" / "scripts"
# The interpreter of `shell:` jobs: Snakemake's own, unless jobs run in the rule's conda
# environment (`--sdm conda`), whose `python` is first on PATH inside the job.
JOB_PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else sys.executable
)
# Job documents too long for one shell argument (implicit_reg.workflow.jobargs).
JOB_FILES = ".snakemake/implicit_reg/jobs"
# Import names parsed from the package's files, kept between Snakemake starts.
IMPORTS_CACHE = ".snakemake/implicit_reg/imports.json"
imports.read_cache(IMPORTS_CACHE)


def experiments(family):
    """Experiment names of a family, sorted (the order of the YAML file is irrelevant)."""
    return sorted(config[family])


def points(family, experiment):
    """Grid point name -> parameters of one experiment."""
    return dict(grid_points(config[family][experiment]))


def run_tables(family):
    """Every run table of a family (all experiments, all grid points)."""
    return [
        f"results/{family}/runs/{experiment}/{point}.parquet"
        for experiment in experiments(family)
        for point in sorted(points(family, experiment))
    ]


def family_tables(family):
    """Aggregate tables of a family: trial-level and summary per experiment."""
    return [
        f"results/{family}/{experiment}{suffix}.parquet"
        for experiment in experiments(family)
        for suffix in ("", "_summary")
    ]


def code(*modules, skip=()):
    """Source files a job imports, from these modules on: editing one reruns the job."""
    files = imports.module_closure(SRC.parent, modules, skip)
    imports.write_cache(IMPORTS_CACHE)
    return files


def job_command(script):
    """Shell command running ``workflow/scripts/<script>`` with one JSON argument
    (`job_argument`, as ``params.job``) and stderr to the log. The script reads it with
    ``jobsetup.read_job``; no Snakemake import in the job's process."""
    return f"{shlex.quote(JOB_PYTHON)} {shlex.quote(str(SCRIPTS / script))} {{params.job:q}} 2> {{log:q}}"


def script_code(script):
    """The script files a `job_command` job runs: editing them reruns its jobs."""
    return [str(SCRIPTS / script), str(SCRIPTS / "jobsetup.py")]


def job_argument(**params):
    """Params function: the job (params, wildcards, input, output, threads) as JSON, or
    the path of a file holding it when too long for one argument (`jobargs.encode`).

    A value of ``params`` that is callable is called with the wildcards (input functions
    such as `point_params`). The ``code`` and ``scripts`` inputs, there only to rerun the
    job when its source changes, are left out.
    """

    def argument(wildcards, input, output, threads):
        def paths(named):
            return {
                name: value if isinstance(value, str) else list(value)
                for name, value in named.items()
                if name not in ("code", "scripts")
            }

        values = {
            name: value(wildcards) if callable(value) else value
            for name, value in params.items()
        }
        document = {
            "params": values,
            "wildcards": dict(wildcards.items()),
            "input": paths(input),
            "output": paths(output),
            "threads": threads,
        }
        return jobargs.encode(document, JOB_FILES)

    return argument


def simulation_code(family):
    """What a simulation job imports; the family's claims and figures are not followed
    (the package re-exports them, the simulation never calls them)."""
    package = f"implicit_reg.{family}"
    return code(
        package,
        "implicit_reg.seeding",
        "implicit_reg.tables",
        skip=(f"{package}.claims", f"{package}.figures"),
    )


def captioned_figures(family):
    """Figure name -> experiments it needs, from the captions in workflow/report/<family>/."""
    return {
        p.stem: caption_needs(p.read_text())
        for p in sorted((CAPTIONS / family).glob("*.rst"))
    }


def figure_names(family):
    """Figures drawn for this configuration: every captioned figure whose experiments run."""
    present = set(experiments(family))
    return [
        name
        for name, needs in captioned_figures(family).items()
        if set(needs) <= present
    ]


def skipped_figures():
    """(family, figure, missing experiments) of figures left out by a partial config."""
    return [
        (family, name, sorted(set(needs) - set(experiments(family))))
        for family in FAMILIES
        for name, needs in captioned_figures(family).items()
        if not set(needs) <= set(experiments(family))
    ]


def figure_files(family, ext):
    return [f"results/figures/{family}/{name}.{ext}" for name in figure_names(family)]


def reported_figures(family):
    """PNG outputs flagged for `snakemake --report`, each with its caption file."""
    return [
        report_flag(
            f"results/figures/{family}/{name}.png",
            caption=str(CAPTIONS / family / f"{name}.rst"),
            category=family,
        )
        for name in figure_names(family)
    ]


def point_params(family):
    """Input function: the parameters of the grid point named by the wildcards."""

    def params(wildcards):
        return points(family, wildcards.experiment)[wildcards.point]

    return params


def family_config(family):
    """The configuration slice a family's tables depend on (stored as provenance)."""
    return canonical({"seed": config["seed"], family: config[family]})


def job_records():
    """(rule, benchmark file, log file) of every job upstream of the report."""
    records = []
    for family in FAMILIES:
        for experiment in experiments(family):
            for point in sorted(points(family, experiment)):
                key = f"{family}/simulate/{experiment}/{point}"
                records.append(
                    (
                        f"{family}_simulate",
                        f"results/benchmarks/{key}.tsv",
                        f"results/logs/{key}.log",
                    )
                )
        records.append(
            (
                f"{family}_summary",
                f"results/benchmarks/{family}/summary.tsv",
                f"results/logs/{family}/summary.log",
            )
        )
    return records


def trial_tables():
    """Trial-level tables of every family (the report counts diverged rows in them)."""
    return [
        f"results/{family}/{experiment}.parquet"
        for family in FAMILIES
        for experiment in experiments(family)
    ]
