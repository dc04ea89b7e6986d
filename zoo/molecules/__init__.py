"""Molecules, the lecture's "données chimiques": featurizers (zoo.molecules.featurize), the nets
(zoo.molecules.nets) and their shipped weights (zoo.molecules.weights).

    from zoo.molecules import weights
    weights.predict("smiles_cnn.freesolv", ["CCO"])   # hydration free energy, kcal/mol

They stand apart from the picture zoo's registry: these nets answer a measured value (or one of
three solubility classes) for a SMILES string, not class probabilities for an array.
"""
