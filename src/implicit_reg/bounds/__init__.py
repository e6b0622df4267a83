"""F4: generalization bounds against measured gaps on real data with random labels.

A two-layer ReLU network is trained by mini-batch SGD on scikit-learn's 8×8 digits with
a fraction p of random labels (experiment ``corruption``, one job per p) and on the
training sets of the four postulates of Zhang et al. (2017) (experiment ``postulates``,
one job).
Right after training, each network gets a compression bound, PAC-Bayes bounds
(McAllester and kl forms on a σ grid, a posterior optimized against the bound, and a
data-dependent prior learned on part of the training set with the bound certified on
the rest), a Frobenius-norm margin bound and the spectral (Bartlett) measure, each next
to the loss it bounds.

References
----------
Zhang et al. (2017); Arora, Ge, Neyshabur, Zhang (2018); McAllester (1999); Langford and
Seeger (2001); Dziugaite and Roy (2017); Dziugaite et al. (2021); Pérez-Ortiz et al.
(2021); docs/science.md §F4.
"""

#: The family's section title in the report.
TITLE = "F4. Generalization bounds against measured gaps"

#: Images in scikit-learn's copy of the UCI 8×8 digits.
N_IMAGES = 1797
#: The training sets of the four postulates of Zhang et al. (2017).
VARIANTS = ("true_labels", "random_inputs", "half_random_inputs", "half_adversarial")
