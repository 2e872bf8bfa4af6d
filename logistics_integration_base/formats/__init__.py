"""File formats shared by the suite's connectors, in plain Python (no ORM).

* :mod:`.common`: the values every format reads and writes (numbers, dates, date-times,
  addresses), so that X12, CSV and later formats agree on them.
* :mod:`.x12`: the generic ANSI X12 layer (envelope, segments, 997 acknowledgements); a
  connector adds the transaction sets it exchanges (the 3PL connector: 940, 945, 846).
"""

from . import common, x12
