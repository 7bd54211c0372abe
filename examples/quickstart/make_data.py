"""Generate the quickstart's data batches from the Palmer penguins dataset.

The dataset (344 penguins observed 2007-2009 on three islands of the Palmer Archipelago,
Antarctica; CC-0, by Allison Horst, Alison Hill and Kristen Gorman) ships inside the PyPI
package ``palmerpenguins``. This script is run once, by a maintainer, to write the CSV
files committed next to it; the demo itself never downloads anything::

    pip install palmerpenguins==0.1.6
    python examples/quickstart/make_data.py

Batches (the label is ``species``):

* ``batch1.csv``   -- the 2007 field season: the first training upload.
* ``batch2.csv``   -- the 2008 season: the second training upload.
* ``drifted.csv``  -- 2009, Biscoe island only: a real shift (one island, mostly the
  heavier Gentoo penguins), uploaded for scoring.
* ``broken.csv``   -- 2009 rows from the other islands, exported with semicolons and
  decimal commas as a European-locale spreadsheet does: a clear bad input.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    from palmerpenguins import load_penguins

    df = load_penguins()
    df.loc[df["year"] == 2007].to_csv(HERE / "batch1.csv", index=False)
    df.loc[df["year"] == 2008].to_csv(HERE / "batch2.csv", index=False)
    season = df.loc[df["year"] == 2009]
    season.loc[season["island"] == "Biscoe"].to_csv(HERE / "drifted.csv", index=False)
    season.loc[season["island"] != "Biscoe"].to_csv(
        HERE / "broken.csv", index=False, sep=";", decimal=","
    )
    for name in ("batch1.csv", "batch2.csv", "drifted.csv", "broken.csv"):
        rows = (HERE / name).read_text(encoding="utf-8").count("\n") - 1
        print(f"wrote {name}: {rows} rows")


if __name__ == "__main__":
    main()
