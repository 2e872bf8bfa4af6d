"""Customs formats, pure Python (no ORM): UN/EDIFACT CUSDEC out and CUSRES in."""
