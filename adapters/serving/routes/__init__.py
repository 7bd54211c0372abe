"""The prediction service's routes, one module per protocol: hookline's own
(:mod:`.predict`, :mod:`.info`), MLflow's scoring protocol (:mod:`.mlflow`) and the Open
Inference Protocol v2 (:mod:`.v2`)."""
