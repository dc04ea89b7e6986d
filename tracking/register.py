"""Register every shipped weight in the MLflow model registry: `make register-zoo`
(`python -m reproductions register [names]`).

Each weight "<arch>.<tag>" becomes a version of registered model "<arch>", with its card
(zoo.weights.WeightCard, as in the manifest) as description and tags, and the alias <tag>:

    mlflow.keras.load_model("models:/conv3_bn@mnist")

The registry needs a database store: the embedded sqlite one, or a server (MLFLOW_TRACKING_URI).
Re-running registers a new version only for weights whose SHA256 is not registered yet, or is
registered without the current signature (tracking/signatures.py: each version has one, and an
input example, so that `make serve` checks requests) or without the metadata naming its weight
(tracking/pyfunc.py answers those from the weight's ONNX export).
"""

from __future__ import annotations

import json

import mlflow
from mlflow.tracking import MlflowClient

import zoo
import zoo.data
from tracking.pyfunc import SHA_KEY, WEIGHT_KEY
from tracking.signatures import log_keras_model, signature
from tracking.store import check_store, experiment_id

EXPERIMENT = "zoo-registry"
CARD_TAGS = ("sha256", "test_accuracy", "recipe", "recipe_mean", "recipe_std", "seed", "command",
             "license")


def _registered_versions(client, arch):
    try:
        return client.search_model_versions(f"name = '{arch}'")
    except mlflow.exceptions.MlflowException:
        return []


def _has_signature(arch, version) -> bool:
    """Whether that registered version was logged with the zoo's current signature (versions
    registered without one, or with an older one such as the uint8 pixels that let floats be cut
    to zeros, are registered again, so that every served model checks its inputs as documented)."""
    try:
        info = mlflow.models.get_model_info(f"models:/{arch}/{version}")
    except Exception:  # an artifact that cannot be read is as good as none: register anew
        return False
    return (info.signature is not None and info.signature.to_dict() == signature(arch).to_dict()
            and WEIGHT_KEY in (info.metadata or {}))


def register(names=None) -> list[str]:
    """Register the shipped weights `names` (default: all); returns the model URIs."""
    check_store(EXPERIMENT)
    client = MlflowClient()
    uris = []
    for name in names or zoo.list_weights():
        card = zoo.weight_info(name)
        arch, tag = card.arch, card.tag
        existing = [v for v in _registered_versions(client, arch)
                    if v.tags.get("sha256") == card.sha256 and _has_signature(arch, v.version)]
        if existing:
            version = existing[0].version
        else:
            model = zoo.load(str(card.name))  # verified against its card before it is logged
            entry = card.to_manifest()
            (_, _), (x_test, _) = zoo.data.load(card.dataset)  # the input example's source
            with mlflow.start_run(experiment_id=experiment_id(EXPERIMENT),
                                  run_name=f"register-{card.name}"):
                mlflow.log_dict(entry, "model_card.json")
                info = log_keras_model(
                    model, arch, arch, x_test, registered_model_name=arch,
                    # the loader answers from the weight's ONNX export when the shipped file
                    # is still this one (tracking/pyfunc.py)
                    metadata={WEIGHT_KEY: str(card.name), SHA_KEY: card.sha256},
                    pip_requirements=[f"tensorflow=={card.tensorflow_version}",
                                      f"keras=={card.keras_version}"])
            version = info.registered_model_version
            client.update_model_version(arch, version, description=json.dumps(entry, indent=2))
            for key in CARD_TAGS:
                client.set_model_version_tag(arch, version, key, str(entry[key]))
        client.set_registered_model_alias(arch, tag, version)
        uris.append(f"models:/{arch}@{tag}")
        print(f"{card.name}: models:/{arch}/{version} (alias @{tag})")
    return uris
