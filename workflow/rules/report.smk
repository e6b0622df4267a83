# Claims of every family -> the HTML report -> the strict-claims check.


rule report:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        figures=[png for family in FAMILIES for png in figure_files(family, "png")],
        captions=[
            str(CAPTIONS / family / f"{name}.rst")
            for family in FAMILIES
            for name in figure_names(family)
        ],
        tables=trial_tables(),
    output:
        REPORT,
    params:
        config=config,
        jobs=job_records(),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    script:
        "../scripts/report.py"


rule claims_check:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        report=REPORT,
    output:
        CLAIMS_CHECK,
    params:
        strict=config["strict_claims"],
    log:
        "results/logs/claims_check.log",
    script:
        "../scripts/claims_check.py"
