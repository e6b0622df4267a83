# Helpers only: grid expansion, paths, job arguments. Rules live in the other rule files.
#
# How a job runs. The Snakefile checks the configuration (schema, cross-key problems and
# cost estimates of each family's `implicit_reg.<family>.config`) and fills its defaults
# before any rule exists. For each family of `implicit_reg.families.FAMILIES` that the
# configuration has, families.smk makes one `<family>_simulate` job per grid point
# (`grid_points`) and one `<family>_summary` job. A job's `params` (`job_params`) hold what
# it computes from (the grid point's parameters and the seed, or the family's
# configuration slice), which Snakemake records so that a change reruns it; its `code`
# input lists the package files it imports (`imports.module_closure`), so that editing
# one reruns it too. The shell command starts `workflow/scripts/<script>.py` with one
# JSON argument (`jobargs`); `jobsetup.read_job` reads it, sets the BLAS threads and the
# import path, and the script calls the package (no Snakemake import in the job):
# simulate.py runs `EXPERIMENTS[experiment].simulate(params, rng)` with the generator of
# `seeding.generator(seed, family, experiment, point)` and writes the run table (with its
# provenance) and arrays; summary.py concatenates and summarizes the run tables, refuses
# run tables of another configuration, evaluates `CLAIMS` and draws `FIGURES`.
import os
import shlex

from snakemake_interface_executor_plugins.settings import DeploymentMethod, ExecMode

from implicit_reg.grid import canonical, grid_points, simulation_job_count
from implicit_reg.workflow.captions import caption_needs
from implicit_reg.families import configured, title
from implicit_reg.workflow import imports, integrity, jobargs
from implicit_reg.workflow import resources as job_resources
from implicit_reg.workflow.replicates import (
    ROBUSTNESS,
    TREE_PATTERN,
    largest_seed,
    replicate_problems,
    replicate_seeds,
    replicate_tree,
    tree_seed,
)
from snakemake.io import report as report_flag  # `report(` would read as a directive

# The workflow's own files, in the local directory of its source (rules/source.smk).
SRC = SOURCE / "src" / "implicit_reg"
CAPTIONS = SOURCE / "workflow" / "report"
SCIENCE = SOURCE / "docs" / "science.md"
TEMPLATE = SRC / "workflow" / "templates" / "report.html.j2"
# The families this configuration runs (its sections that are families), in its order.
FAMILIES = configured(config)
REPORT = "results/report/index.html"
CLAIMS_CHECK = "results/claims/check.tsv"
CLAIMS_TABLE = "results/claims/claims.html"
SCRIPTS = SOURCE / "workflow" / "scripts"
# The interpreter of `shell:` jobs: Snakemake's own, unless jobs run in the rule's conda
# environment (`--sdm conda`), whose `python` is first on PATH inside the job.
JOB_PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else sys.executable
)
# `make robustness` (rules/robustness.smk): the replicates' top-level seeds, their results
# trees (the configured seed's, "", first), the combined claims and their page.
ROBUSTNESS_SEEDS = replicate_seeds(config["seed"], config["robustness_seeds"])
ROBUSTNESS_TREES = [replicate_tree(seed, config["seed"]) for seed in ROBUSTNESS_SEEDS]
ROBUSTNESS_TABLE = f"{ROBUSTNESS}/claims.parquet"
ROBUSTNESS_PAGE = f"{ROBUSTNESS}/index.html"
ROBUSTNESS_TEMPLATE = SRC / "workflow" / "templates" / "robustness.html.j2"
# The last replicate seed may not pass the schema's largest seed.
LARGEST_SEED = largest_seed(SOURCE / "workflow" / "schemas" / "config.schema.yaml")
# Job documents too long for one shell argument (implicit_reg.workflow.jobargs).
JOB_FILES = ".snakemake/implicit_reg/jobs"
# Damaged outputs are moved here (`set_aside_damaged_outputs`).
DAMAGED = ".snakemake/implicit_reg/damaged"
# Import names parsed from the package's files, kept between Snakemake starts.
IMPORTS_CACHE = ".snakemake/implicit_reg/imports.json"
imports.read_cache(IMPORTS_CACHE)


def from_workdir(path):
    """``path`` relative to the working directory when it is inside it, else absolute.

    Snakemake records the input paths of every job and compares them with the next
    run's (the ``input`` rerun trigger), and the shell command's text (``code``):
    relative paths keep a checkout that is moved or copied, results and all, up to date.
    """
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def experiments(family):
    """Experiment names of a family, sorted (the order of the YAML file is irrelevant)."""
    return sorted(config[family])


def points(family, experiment):
    """Grid point name -> parameters of one experiment."""
    return dict(grid_points(config[family][experiment]))


def run_files(family, suffix, tree=""):
    """Every run output of a family with this suffix (all experiments, all grid points),
    in results tree ``tree`` (`replicates`: ``""``, the configured seed's)."""
    return [
        f"results/{tree}{family}/runs/{experiment}/{point}.{suffix}"
        for experiment in experiments(family)
        for point in sorted(points(family, experiment))
    ]


def run_tables(family, tree=""):
    """Every run table of a family (all experiments, all grid points)."""
    return run_files(family, "parquet", tree)


def family_tables(family, tree=""):
    """Aggregate tables of a family: trial-level and summary per experiment."""
    return [
        f"results/{tree}{family}/{experiment}{suffix}.parquet"
        for experiment in experiments(family)
        for suffix in ("", "_summary")
    ]


def code(*modules, skip=()):
    """Source files a job imports, from these modules on: editing one reruns the job.
    Marked `local`: a `prefix:` or a storage provider relocates results, not the source.
    """
    files = imports.module_closure(SRC.parent, modules, skip)
    imports.write_cache(IMPORTS_CACHE)
    return [local(from_workdir(f)) for f in files]


def job_command(script):
    """Shell command running ``workflow/scripts/<script>`` with one JSON argument
    (`job_argument`, as ``params.job``) and stderr to the log. The script reads it with
    ``jobsetup.read_job``; no Snakemake import in the job's process."""
    path = from_workdir(SCRIPTS / script)
    return (
        f"{shlex.quote(JOB_PYTHON)} {shlex.quote(path)} {{params.job:q}} 2> {{log:q}}"
    )


def script_code(script):
    """The script files a `job_command` job runs: editing them reruns its jobs."""
    return [local(from_workdir(SCRIPTS / name)) for name in (script, "jobsetup.py")]


def job_params(**values):
    """The ``params`` of a `job_command` rule, to unpack: ``params: **job_params(...)``.

    ``record``: what the job computes from (``values``, a callable one called with the
    wildcards, as canonical JSON-like data). It is a function of the wildcards only, so
    Snakemake records it in ``.snakemake/metadata`` and the ``params`` rerun trigger
    reruns the job when it changes: a seed, a non-grid key, ``pdf_figures``. Snakemake
    leaves parameters derived from ``input`` or ``output`` out of that trigger
    (``Rule._is_deriving_function`` in ``snakemake/rules.py``, used by
    ``Persistence._params``), which is why the job argument cannot carry it alone.

    ``job``: the job (the record, wildcards, input, output, threads) as one JSON
    argument, or the path of a file holding it when too long (`jobargs.encode`). The
    ``code`` and ``scripts`` inputs, there only to rerun the job when its source changes,
    are left out.
    """

    def record(wildcards):
        return canonical(
            {
                name: value(wildcards) if callable(value) else value
                for name, value in values.items()
            }
        )

    def job(wildcards, input, output, threads):
        def paths(named):
            return {
                name: value if isinstance(value, str) else list(value)
                for name, value in named.items()
                if name not in ("code", "scripts")
            }

        document = {
            "params": record(wildcards),
            "wildcards": dict(wildcards.items()),
            "input": paths(input),
            "output": paths(output),
            "threads": threads,
        }
        return jobargs.encode(document, JOB_FILES)

    return {"record": record, "job": job}


def simulation_code(family):
    """What a simulation job imports: the family's experiments and what they import."""
    return code(
        f"implicit_reg.{family}.experiments",
        "implicit_reg.experiment",
        "implicit_reg.seeding",
        "implicit_reg.tables",
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


def figure_files(family, ext, tree=""):
    return [
        f"results/{tree}figures/{family}/{name}.{ext}" for name in figure_names(family)
    ]


def caption_file(path):
    """A caption's path for `report(..., caption=)`: Snakemake reads a relative caption
    path from the folder of the rule file, workflow/rules/ (relative, so that a moved
    checkout still finds it)."""
    return os.path.relpath(path, SOURCE / "workflow" / "rules")


def reported_figures(family, tree=""):
    """PNG outputs flagged for `snakemake --report`, each with its caption file, under
    the family's title and the experiments it is drawn from."""
    return [
        report_flag(
            f"results/{tree}figures/{family}/{name}.png",
            caption=caption_file(CAPTIONS / family / f"{name}.rst"),
            category=title(family),
            subcategory=", ".join(captioned_figures(family)[name]),
        )
        for name in figure_names(family)
    ]


def simulation_resource(family, request):
    """Resource callable of a simulate rule: ``request(family, experiment, params,
    attempt)`` for the grid point named by the wildcards."""

    def resource(wildcards, attempt):
        params = points(family, wildcards.experiment)[wildcards.point]
        return request(family, wildcards.experiment, params, attempt)

    return resource


def point_params(family):
    """Input function: the parameters of the grid point named by the wildcards."""

    def params(wildcards):
        return points(family, wildcards.experiment)[wildcards.point]

    return params


def family_config(family, seed=None):
    """The configuration slice a family's tables depend on (stored as provenance), at
    top-level ``seed`` (a replicate's, `replicates`; by default the configured one)."""
    seed = config["seed"] if seed is None else seed
    return canonical({"seed": seed, family: config[family]})


def tree_seed_param(wildcards):
    """Params function: the top-level seed of the results tree named by ``tree``."""
    return tree_seed(wildcards.tree, config["seed"])


def family_config_param(family):
    """Params function: `family_config` at the seed of the results tree ``tree``."""

    def provenance(wildcards):
        return family_config(family, tree_seed_param(wildcards))

    return provenance


def job_records():
    """(rule, benchmark file, log file) of every job upstream of the report, as the
    rules name them: the report takes the files as inputs, so that Snakemake maps them
    under a module's ``prefix:`` or a storage provider like every other path."""
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


def configuration_files():
    """The configuration files of this run, relative to the working directory where they
    are inside it (the default ``config/config.yaml`` when no ``--configfile`` is given),
    and the ``--config`` overrides."""
    given = workflow.config_settings.configfiles or ["config/config.yaml"]
    overrides = dict(workflow.config_settings.config or {})
    return {
        "files": [from_workdir(p) for p in given],
        "overrides": canonical(overrides),
    }


def set_aside_damaged_outputs(trees=("",)):
    """Move every output that is not whole (`implicit_reg.workflow.integrity`) out of the results:
    a missing output, it is rebuilt by this run with everything downstream of it. Only
    the process that plans the jobs does it (not the Snakemake processes of cluster or
    subprocess jobs). ``trees``: the results trees to check (`every_output`)."""
    if workflow.exec_mode != ExecMode.DEFAULT:
        return
    outputs = [path for tree in trees for path in every_output(tree)]
    for line in integrity.set_aside_damaged(outputs, DAMAGED):
        print(line, file=sys.stderr)


def every_output(tree=""):
    """Every file the report stands on, as targets of the workflow's `all`: Snakemake rebuilds a
    missing file only when something downstream that must run, or a target, asks for it
    (a deleted ``.npz`` or PNG under an up-to-date report would stay missing). ``tree``:
    a replicate's results tree (`replicates`), the same files under it."""
    return [
        path
        for family in FAMILIES
        for path in (
            *run_files(family, "parquet", tree),
            *run_files(family, "npz", tree),
            *family_tables(family, tree),
            f"results/{tree}claims/{family}.parquet",
            *figure_files(family, "png", tree),
            *(figure_files(family, "pdf", tree) if config["pdf_figures"] else []),
        )
    ]


def replicate_claims(seed):
    """The claims tables of the replicate at top-level ``seed``, one per family."""
    tree = replicate_tree(seed, config["seed"])
    return [f"results/{tree}claims/{family}.parquet" for family in FAMILIES]


def checked_replicates(wildcards):
    """The replicates' claims tables, once `replicate_problems` finds nothing: evaluated
    when the robustness target is in the DAG only (before any of its jobs), so that a
    configuration too large for K replicates still runs its report."""
    problems = replicate_problems(
        config["seed"],
        config["robustness_seeds"],
        simulation_job_count(config, FAMILIES),
        config["limits"],
        LARGEST_SEED,
    )
    if problems:
        raise WorkflowError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return [path for seed in ROBUSTNESS_SEEDS for path in replicate_claims(seed)]


def trial_tables():
    """Trial-level tables of every family (the report counts diverged rows in them)."""
    return [
        f"results/{family}/{experiment}.parquet"
        for family in FAMILIES
        for experiment in experiments(family)
    ]


def rule_edges():
    """The (producer, consumer) pairs of the report's rule graph, found from the file
    inputs of every rule and the rules whose outputs match them (``Rule.is_producer``).
    """
    rules = [
        r
        for r in workflow.rules
        if r.name != "all" and not r.name.startswith("robustness")
    ]
    return sorted(
        {
            (producer.name, consumer.name)
            for consumer in rules
            for path in consumer.input
            if isinstance(path, str)
            for producer in rules
            if producer is not consumer and producer.is_producer(path)
        }
    )
