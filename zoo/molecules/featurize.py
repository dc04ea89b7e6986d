"""A molecule as a picture and as text: what the molecule nets read.

    mol = parse("CCO")                 # RDKit's molecule, or MoleculeError saying what is wrong
    image(mol)                         # (80, 80, 4) float32: Chemception's drawing, four channels
    encode(["CCO", "c1ccccc1"])        # (2, MAX_LENGTH) int32: one code per SMILES character
    enumerate_smiles(mol, 5, seed=1)   # five other SMILES of the same molecule (augmentation)

The picture follows Chemception (Goh et al. 2017): RDKit's 2D depiction of the heavy atoms,
centred, on an 80x80 grid of 0.5 Angstrom pixels (DeepChem's defaults for Chemception images),
with the four channels of the "EngA" encoding of their follow-up (arXiv 1710.02238, Table 2:
atomic number, bond order, partial charge, hybridization), here in the order: each bond a line of
its bond order (1, 1.5, 2, 3) in channel 0, each atom a pixel carrying its atomic number (1),
Gasteiger partial charge (2) and hybridization (3, RDKit's enum: SP=2, SP2=3, SP3=4, ...). (Their
"EngD" puts atomic number and bond order in one channel and adds the valence; the follow-up found
EngA and EngD, both with charge and hybridization, the better ones on FreeSolv.) A molecule
drawn beyond the 40 Angstrom square is refused (a chain of about 35 carbons; none of the data
sets' molecules is that large, as tests/test_molecules.py checks); at this resolution two atoms of
a crowded bridged ring system can share a pixel (3 of the 1,924).

The text is SMILES read character by character: printable ASCII, code = ord(c) - 31 (0 pads), up
to MAX_LENGTH characters. The same molecule has many SMILES; training sees random ones of each
(RDKit's MolToRandomSmilesVect, seeded), prediction reads the canonical one.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 80
RESOLUTION = 0.5  # Angstrom a pixel
CHANNELS = ("bond order", "atomic number", "Gasteiger charge", "hybridization")
MAX_LENGTH = 128  # the longest SMILES the text net reads; the data sets' longest: 82
VOCABULARY = 96  # codes 0 (padding) to 95: printable ASCII ' ' (32) to '~' (126) plus one


class MoleculeError(ValueError):
    """A string that is not a molecule the nets can read; the message says why and what to do."""


def parse(smiles: str):
    """RDKit's molecule for a SMILES string, or MoleculeError (RDKit's own complaint goes to
    RDKit's log, not the console)."""
    from rdkit import Chem, RDLogger

    if not isinstance(smiles, str) or not smiles.strip():
        raise MoleculeError("an empty SMILES string; give a molecule, e.g. CCO for ethanol")
    # RDKit reads up to a space (the rest is the molecule's name) and past some non-ASCII
    # characters: "CC O" and "CCé" would quietly be answered as ethane. SMILES is printable
    # ASCII without spaces, so anything else is refused before RDKit sees it.
    # the length first: a message that quoted a string of millions of characters would send
    # them all back (the live explainer's answer, the console)
    if len(smiles) > MAX_LENGTH:
        raise MoleculeError(f"a SMILES string of {len(smiles):,} characters; the molecule nets "
                            f"read at most {MAX_LENGTH}")
    odd = sorted({ch for ch in smiles if not ("!" <= ch <= "~")})
    if odd:
        shown = ", ".join(repr(ch) for ch in odd[:5])
        raise MoleculeError(f"{smiles!r} has characters a SMILES string cannot hold ({shown}): "
                            "printable ASCII without spaces, e.g. CCO for ethanol")
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None or mol.GetNumAtoms() == 0:
        raise MoleculeError(f"{smiles!r} is not a SMILES string RDKit can read (check brackets, "
                            "ring-closure digits and valences), e.g. CCO for ethanol")
    written = Chem.MolToSmiles(mol)
    if len(written) > MAX_LENGTH:  # "O=N(=O)" becomes "[N+](=O)[O-]": the canonical form grows
        raise MoleculeError(f"{smiles!r} is {len(written)} characters written canonically; the "
                            f"molecule nets read at most {MAX_LENGTH}")
    return mol


def canonical(smiles: str) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(parse(smiles))


def atom_pixels(mol):
    """(a copy of `mol` with RDKit's 2D depiction, each atom's (row, column) in the drawing);
    MoleculeError for a molecule drawn beyond the 40 Angstrom square."""
    from rdkit import Chem
    from rdkit.Chem import rdDepictor

    mol = Chem.Mol(mol)  # the depiction is written into the molecule: a copy
    rdDepictor.Compute2DCoords(mol)
    xy = mol.GetConformer().GetPositions()[:, :2]
    pixels = np.rint((xy - xy.mean(axis=0)) / RESOLUTION + IMAGE_SIZE / 2).astype(int)
    if pixels.min() < 0 or pixels.max() >= IMAGE_SIZE:
        span = np.ptp(xy, axis=0).max()
        raise MoleculeError(f"{Chem.MolToSmiles(mol)!r} spans {span:.0f} Angstrom when drawn; "
                            f"the drawing covers {IMAGE_SIZE * RESOLUTION:.0f} (the image nets "
                            "see nothing bigger; the SMILES net reads it: smiles_cnn.*)")
    return mol, pixels


def image(mol) -> np.ndarray:
    """Chemception's four-channel drawing of `mol` (see the module's docstring)."""
    from rdkit.Chem import rdPartialCharges

    mol, pixels = atom_pixels(mol)
    rdPartialCharges.ComputeGasteigerCharges(mol)
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE, len(CHANNELS)), np.float32)
    for bond in mol.GetBonds():
        (r0, c0), (r1, c1) = pixels[bond.GetBeginAtomIdx()], pixels[bond.GetEndAtomIdx()]
        n = max(abs(r1 - r0), abs(c1 - c0)) + 1
        rows = np.rint(np.linspace(r0, r1, n)).astype(int)
        cols = np.rint(np.linspace(c0, c1, n)).astype(int)
        out[rows, cols, 0] = bond.GetBondTypeAsDouble()
    for atom, (r, c) in zip(mol.GetAtoms(), pixels):
        charge = atom.GetDoubleProp("_GasteigerCharge")
        out[r, c, 1:] = (atom.GetAtomicNum(), charge if np.isfinite(charge) else 0.0,
                         float(int(atom.GetHybridization())))
    return out


def images(smiles) -> np.ndarray:
    """(n, 80, 80, 4) float32 for a list of SMILES strings, each drawn as written (RDKit's
    layout follows the atom order: two writings of one molecule can be drawn turned or flipped;
    the zoo's predict and explain draw the canonical SMILES, zoo.molecules.weights.inputs_of)."""
    return np.stack([image(parse(s)) for s in smiles]) if len(smiles) else \
        np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, len(CHANNELS)), np.float32)


def encode(smiles) -> np.ndarray:
    """(n, MAX_LENGTH) int32 character codes; a character outside printable ASCII or a string
    longer than MAX_LENGTH is a MoleculeError."""
    out = np.zeros((len(smiles), MAX_LENGTH), np.int32)
    for i, s in enumerate(smiles):
        if len(s) > MAX_LENGTH:
            raise MoleculeError(f"a SMILES string of {len(s)} characters; the text net reads at "
                                f"most {MAX_LENGTH}")
        codes = [ord(ch) - 31 for ch in s]
        if any(not 1 <= c < VOCABULARY for c in codes):
            raise MoleculeError(f"{s!r} has a character outside printable ASCII")
        out[i, :len(codes)] = codes
    return out


def decode(codes) -> str:
    """The SMILES string of one row of encode()'s codes (for the explainer and the tests)."""
    return "".join(chr(int(c) + 31) for c in codes if c)


def enumerate_smiles(mol, n: int, seed: int) -> list[str]:
    """`n` random SMILES of `mol` (RDKit's random atom orders, seeded): the same molecule, written
    from other starting atoms and in other orders. Ones longer than MAX_LENGTH are dropped, the
    canonical SMILES stands in when none is left."""
    from rdkit import Chem

    out = [s for s in Chem.MolToRandomSmilesVect(mol, n, randomSeed=seed) if len(s) <= MAX_LENGTH]
    return out or [Chem.MolToSmiles(mol)]
