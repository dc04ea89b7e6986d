"""What moved a molecule net's answer: `zoo explain <molecule weight> <SMILES>`.

Occlusion, the same for every backend (no gradients): the answer is computed again with one part
of the input taken away, and the change is that part's share.

- image nets (chemception, mol_conv): each atom in turn is taken out of the drawing (its pixel's
  atomic number, charge and hybridization set to zero; its bonds stay), and the molecule is drawn
  by RDKit with each atom coloured by how much the answer moved (RDKit's similarity map: green
  where removing the atom lowers the answer, i.e. the atom raised it; pink the other way);
- the text net (smiles_cnn): each character of the canonical SMILES in turn is set to padding,
  and the page shows the string with each character coloured the same way.

For a class net the answer is the probability of the predicted class. `zoo explain` writes
molecule.png (the drawing with the atoms' shares, or plain for the text net), drawing.png (the
80x80 picture the image nets see, its four channels side by side) and index.html (the answer, the
shares as a table and the coloured string), under <out>/<weight>-<canonical SMILES, filename-safe>/;
the live explainer (zoo explain --serve) shows the same from `to_json`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.files import atomic_path, make_folder
from zoo.molecules import featurize, weights


@dataclass(frozen=True)
class Explanation:
    smiles: str  # canonical
    answer: float  # the value, or the predicted class's probability
    said: str  # the answer in words
    parts: list  # [(label, share)]: atoms ("C1", "O3") or characters, in order
    by_atom: bool


def _score(card, out: np.ndarray, klass: int | None) -> np.ndarray:
    return out[:, klass] if klass is not None else out.reshape(-1)


def explain_molecule(name: str, smiles: str, model=None) -> Explanation:
    card = weights.weight_info(name)
    model = model or weights.load(name)
    canonical = featurize.canonical(smiles)
    mol = featurize.parse(canonical)
    if card.net == "smiles_cnn":
        base = featurize.encode([canonical])
        variants = np.repeat(base, len(canonical), axis=0)
        variants[np.arange(len(canonical)), np.arange(len(canonical))] = 0
        labels = list(canonical)
    else:
        base = featurize.image(mol)[None]
        variants = np.repeat(base, mol.GetNumAtoms(), axis=0)
        for i, (row, column) in enumerate(featurize.atom_pixels(mol)[1]):
            variants[i, row, column, 1:] = 0
        labels = [f"{a.GetSymbol()}{a.GetIdx()}" for a in mol.GetAtoms()]
    out = np.asarray(model.predict(np.concatenate([base, variants]), verbose=0))
    klass = int(np.argmax(out[0])) if card.task == "classification" else None
    scores = _score(card, out, klass)
    shares = scores[0] - scores[1:]  # what each part added to the answer
    if klass is None:
        said = f"{card.target} {scores[0]:.2f} {card.units}"
    else:
        said = f"solubility {card.classes[klass]} ({scores[0]:.3f})"
    return Explanation(canonical, float(scores[0]), said,
                       list(zip(labels, (float(s) for s in shares))),
                       card.net != "smiles_cnn")


def _colour(share: float, scale: float) -> str:
    """Green where the part raised the answer, pink where it lowered it; white near zero."""
    t = 0.0 if scale == 0 else max(-1.0, min(1.0, share / scale))
    if t >= 0:
        r, g, b = 255 - int(155 * t), 255 - int(40 * t), 255 - int(155 * t)
    else:
        r, g, b = 255 + int(40 * t), 255 + int(155 * t), 255 + int(100 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def molecule_png(e: Explanation, size: int = 400) -> bytes:
    """The molecule drawn by RDKit, atoms coloured by their share (image nets), as PNG bytes."""
    from rdkit.Chem import Draw
    from rdkit.Chem.Draw import SimilarityMaps

    mol = featurize.parse(e.smiles)
    drawer = Draw.MolDraw2DCairo(size, size)
    if e.by_atom and mol.GetNumAtoms() > 1:  # RDKit's map needs two atoms to spread over
        SimilarityMaps.GetSimilarityMapFromWeights(mol, [s for _, s in e.parts], draw2d=drawer)
    else:
        drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def coloured_string(e: Explanation) -> str:
    """The SMILES as HTML, each character coloured by its share (text net), else plain."""
    if e.by_atom:
        return html.escape(e.smiles)
    scale = max((abs(s) for _, s in e.parts), default=0.0)
    return "".join(f'<span style="background:{_colour(s, scale)}" title="{s:+.3f}">'
                   f"{html.escape(label)}</span>" for label, s in e.parts)


def to_json(e: Explanation, name: str) -> dict:
    """The live explainer's answer (zoo.explain_ui): the numbers, the string, the picture."""
    import base64

    return {"model": name, "smiles": e.smiles, "answer": e.answer, "said": e.said,
            "by_atom": e.by_atom, "parts": [[label, share] for label, share in e.parts],
            "string": coloured_string(e),
            "png": "data:image/png;base64," + base64.b64encode(molecule_png(e, 300)).decode()}


def write_explanation(name: str, smiles: str, out_root) -> Path:
    """The page and pictures of explain_molecule; the page's path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    e = explain_molecule(name, smiles)
    safe = re.sub(r"[^A-Za-z0-9=#()+-]", "_", e.smiles)
    if safe != e.smiles:  # "/" and "\\" (cis, trans) both became "_": tell the isomers apart
        import hashlib

        safe += "-" + hashlib.sha256(e.smiles.encode()).hexdigest()[:8]
    folder = make_folder(Path(out_root) / f"{name}-{safe}")
    with atomic_path(folder / "molecule.png") as tmp:
        tmp.write_bytes(molecule_png(e))
    drawing = featurize.image(featurize.parse(e.smiles))
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
    for ax, channel, title in zip(axes, np.moveaxis(drawing, -1, 0), featurize.CHANNELS):
        ax.imshow(channel, cmap="magma")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    with atomic_path(folder / "drawing.png") as tmp:
        fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{s:+.3f}</td></tr>"
                   for label, s in e.parts)
    what = "atom" if e.by_atom else "character"
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(name)}: {html.escape(e.smiles)}</title>
<h1>{html.escape(name)} on <code>{html.escape(e.smiles)}</code></h1>
<p>Answer: <b>{html.escape(e.said)}</b>. Each {what} in turn taken away: how much the answer
moved (its share; green: it raised the answer, pink: it lowered it).</p>
<p style="font:24px monospace">{coloured_string(e)}</p>
<img src="molecule.png" alt="the molecule{', atoms coloured by their share' if e.by_atom else ''}">
<h2>What the image nets see</h2><img src="drawing.png" alt="the 80x80 drawing, four channels">
<table><tr><th>{what}</th><th>share</th></tr>{rows}</table>
"""
    with atomic_path(folder / "index.html") as tmp:
        tmp.write_text(page)
    return folder / "index.html"
