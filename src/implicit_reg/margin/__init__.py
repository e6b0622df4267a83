"""Margin family (docs/science.md §F2): GD on separable data finds the max-margin direction.

Experiments
-----------
``soudry``
    F2a: GD, heavy-ball momentum and normalized GD on the logistic and exponential
    losses, on the 2-D Soudry et al. dataset and on random separable datasets, against
    the exact hard-margin SVM.
``perceptron``
    F2b: perceptron updates against the Block–Novikoff bound (R/γ)².
``test_loss``
    F2c: the test loss rises while the test error does not.
"""

#: The family's section title in the report.
TITLE = "F2. Margin convergence: gradient descent finds the max-margin direction"
