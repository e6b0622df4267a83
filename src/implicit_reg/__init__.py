"""implicit-reg: simulations, exact references and claims on implicit regularization.

The package is pure numerics: no Snakemake, no file paths (except `tables` and `report`,
which read and write the artefacts the workflow hands them). Randomness enters only
through explicit `numpy.random.Generator` arguments.
"""

__version__ = "0.2.0"
