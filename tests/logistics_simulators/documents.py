"""Documents the simulated carriers hand out: shipping labels (a one-page 4x6 in PDF, or
ZPL for thermal printers) and customs forms, each showing what it is for, so that tests
can read them back (page count, text)."""


def pdf_document(*lines, width=288, height=432):
    """A valid one-page PDF (default 4x6 in, a label) showing ``lines`` of text."""
    text = "".join(
        "BT /F1 12 Tf 18 {} Td ({}) Tj ET\n".format(
            height - 36 - 18 * index,
            line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"),
        )
        for index, line in enumerate(lines)
    ).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>" % (width, height),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_label(carrier, tracking_code):
    return pdf_document(f"{carrier} shipping label", f"Tracking {tracking_code}")


def zpl_label(tracking_code):
    return f"^XA^FO50,50^A0N,40,40^FD{tracking_code}^FS^XZ".encode()
