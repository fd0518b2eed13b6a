"""facecraft.eval: face preprocessing, FER models, data sets, training and the evaluators."""
