"""HMRC's Customs Declaration Service (CDS) in WCO DMS XML: declarations out, notifications in.

Plain Python, no ORM. What HMRC published guides every element (``tests/conformance/hmrc_cds/``:
the XSDs ``WCO_DEC_2_DMS.xsd`` / ``WCO_RES_2_DMS.xsd``, the annotated samples and the API
definition of the ``customs-declarations`` service):

* :func:`build_declaration` -- a canonical ``customs.declaration`` as an export (``EX``) or an
  import (``IM``) declaration, ``FunctionCode`` 9 (original). The LRN (DE 2/5,
  ``FunctionalReferenceID``) is the declaration's reference; a later version sent as a new
  declaration (the one before was rejected, so HMRC never registered it) gets
  ``<reference>-V<version>``, which the notifications repeat.
* :func:`build_amendment` -- a version of a declaration HMRC registered (it has an MRN): an
  additional message, ``FunctionCode`` 13, ``TypeCode`` ``COR``, with the reason (``AES``)
  and the pointers HMRC's samples use, carrying every goods item again.
* :func:`build_cancellation` -- a canonical ``customs.cancel``: ``FunctionCode`` 13,
  ``TypeCode`` ``INV``, ``ChangeReasonCode`` 1, the reason as free text (``AES``).
* :func:`parse_notification` -- a DMS notification (``WCOTypeName`` ``RES``), namespaced as the
  XSD defines it or not (HMRC's annotated samples carry no namespaces), read into a canonical
  ``customs.status`` (see :data:`NOTIFICATIONS`).
"""

import re
from datetime import UTC, datetime, timedelta, timezone

from lxml import etree

NS_MD = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
NS_DEC = "urn:wco:datamodel:WCO:DEC-DMS:2"
NS_RES = "urn:wco:datamodel:WCO:RES-DMS:2"
NSMAP = {"md": NS_MD, None: NS_DEC}

#: HMRC's versioned media type (``Accept``) and the request content type its API requires
MEDIA_TYPE = "application/vnd.hmrc.1.0+xml"
CONTENT_TYPE = "application/xml; charset=UTF-8"

#: canonical transport mode -> DE 7/4 mode of transport at the border
MODE_CODES = {"sea": "1", "rail": "2", "road": "3", "air": "4", "post": "5"}
#: requested and previous procedure (DE 1/10): permanent export of goods in free circulation;
#: release for free circulation and home use
EXPORT_PROCEDURE = ("10", "40")
IMPORT_PROCEDURE = ("40", "00")

LRN_VERSION = re.compile(r"^(?P<reference>.+)-V(?P<version>\d+)$")


class CdsFormatError(ValueError):
    """A declaration that cannot be written, or a notification that cannot be read; the text
    names the element."""


# building ------------------------------------------------------------------------------------
def lrn(reference, version):
    """The LRN (DE 2/5) of a declaration version sent as a new declaration."""
    value = reference if not version or version == 1 else f"{reference}-V{version}"
    if len(value) > 22:
        raise CdsFormatError(
            f"the LRN {value} is longer than the 22 characters HMRC accepts (DE 2/5)"
        )
    return value


def _el(parent, tag, text=None, **attrib):
    node = etree.SubElement(parent, f"{{{NS_DEC}}}{tag}", **attrib)
    if text is not None:
        node.text = str(text)
    return node


def _amount(value):
    return f"{value:.2f}"


def _mass(value):
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "0") else "0.001"


def _metadata():
    root = etree.Element(f"{{{NS_MD}}}MetaData", nsmap=NSMAP)
    for tag, text in (
        ("WCODataModelVersionCode", "3.6"),
        ("WCOTypeName", "DEC"),
        ("ResponsibleCountryCode", "GB"),
        ("ResponsibleAgencyName", "HMRC"),
        ("AgencyAssignedCustomizationVersionCode", "v2.1"),
    ):
        etree.SubElement(root, f"{{{NS_MD}}}{tag}").text = text
    return root


def _party_address(parent, tag, party):
    node = _el(parent, tag)
    _el(node, "Name", party["name"][:70])
    address = _el(node, "Address")
    _el(address, "CityName", (party.get("city") or "-")[:35])
    _el(address, "CountryCode", party["country_code"])
    _el(address, "Line", (party.get("street") or "-")[:70])
    _el(address, "PostcodeID", (party.get("zip") or "-")[:9])
    return node


def _eori(party, what):
    eori = (party or {}).get("eori")
    if not eori:
        raise CdsFormatError(f"the {what} has no EORI number (DE 3/2, 3/16, 3/18)")
    return eori


def _goods_item(parent, line, data, export):
    item = _el(parent, "GovernmentAgencyGoodsItem")
    _el(item, "SequenceNumeric", line["line"])
    if export and data["currency"] == "GBP":
        _el(item, "StatisticalValueAmount", _amount(line["value"]), currencyID="GBP")
    commodity = _el(item, "Commodity")
    _el(commodity, "Description", line["description"][:512])
    code = line["hs_code"]
    classification = _el(commodity, "Classification")
    _el(classification, "ID", code[:8])
    _el(classification, "IdentificationTypeCode", "TSP")
    if not export and len(code) == 10:
        classification = _el(commodity, "Classification")
        _el(classification, "ID", code[8:])
        _el(classification, "IdentificationTypeCode", "TRC")
    measure = _el(commodity, "GoodsMeasure")
    _el(measure, "GrossMassMeasure", _mass(line["gross_weight_kg"]), unitCode="KGM")
    _el(measure, "NetNetWeightMeasure", _mass(line["net_weight_kg"]), unitCode="KGM")
    if not export:
        invoice_line = _el(commodity, "InvoiceLine")
        _el(invoice_line, "ItemChargeAmount", _amount(line["value"]), currencyID=data["currency"])
        valuation = _el(item, "CustomsValuation")
        _el(valuation, "MethodCode", "1")  # transaction value
    current, previous = EXPORT_PROCEDURE if export else IMPORT_PROCEDURE
    procedure = _el(item, "GovernmentProcedure")
    _el(procedure, "CurrentCode", current)
    _el(procedure, "PreviousCode", previous)
    _el(_el(item, "GovernmentProcedure"), "CurrentCode", "000")  # no additional procedure
    if not export:
        origin = _el(item, "Origin")
        _el(origin, "CountryCode", line["origin"])
        _el(origin, "TypeCode", "1")  # non-preferential origin
    if line["line"] == 1:
        packaging = _el(item, "Packaging")
        _el(packaging, "SequenceNumeric", 1)
        _el(packaging, "MarksNumbersID", data["reference"][:512])
        _el(packaging, "QuantityQuantity", data["packages"])
        _el(packaging, "TypeCode", "PK")
    return item


def build_declaration(data, settings, now=None):
    """A canonical ``customs.declaration`` as WCO DMS XML (bytes, UTF-8).

    ``settings``: ``declaration_category`` (DE 1/2: ``D`` pre-lodged, ``A`` arrived),
    ``goods_location`` (DE 5/23, e.g. ``DVRDOVDVR``), ``exit_office`` (DE 5/12, exports,
    e.g. ``GB000040``), ``submitter`` (EORI, optional)."""
    export = data["direction"] == "export"
    root = _metadata()
    declaration = etree.SubElement(root, f"{{{NS_DEC}}}Declaration")
    _el(declaration, "FunctionCode", 9)
    _el(declaration, "FunctionalReferenceID", lrn(data["reference"], data["version"]))
    category = settings.get("declaration_category") or "D"
    _el(declaration, "TypeCode", ("EX" if export else "IM") + category)
    _el(declaration, "GoodsItemQuantity", len(data["lines"]))
    _el(declaration, "InvoiceAmount", _amount(data["total_value"]), currencyID=data["currency"])
    _el(declaration, "TotalPackageQuantity", data["packages"])
    trader = data["exporter"] if export else data["importer"]
    declarant = data.get("declarant") or trader
    if data.get("transport_mode"):
        border = _el(declaration, "BorderTransportMeans")
        _el(border, "ModeCode", MODE_CODES[data["transport_mode"]])
    _el(_el(declaration, "Declarant"), "ID", _eori(declarant, "declarant"))
    if export:
        exit_office = settings.get("exit_office")
        if exit_office:
            _el(_el(declaration, "ExitOffice"), "ID", exit_office)
        _el(_el(declaration, "Exporter"), "ID", _eori(data["exporter"], "exporter"))
    else:
        _party_address(declaration, "Exporter", data["exporter"])
    shipment = _el(declaration, "GoodsShipment")
    if not export:
        _el(shipment, "TransactionNatureCode", "1")
    if export:
        _party_address(shipment, "Consignee", data["importer"])
    consignment = _el(shipment, "Consignment")
    _el(consignment, "ContainerCode", "0")
    location = settings.get("goods_location")
    if location:
        goods_location = _el(consignment, "GoodsLocation")
        _el(goods_location, "Name", location)
        _el(goods_location, "TypeCode", "A")  # designated location
        address = _el(goods_location, "Address")
        _el(address, "TypeCode", "U")  # UN/LOCODE based
        _el(address, "CountryCode", "GB")
    _el(_el(shipment, "Destination"), "CountryCode", data["country_of_destination"])
    _el(_el(shipment, "ExportCountry"), "ID", data["country_of_dispatch"])
    for line in data["lines"]:
        _goods_item(shipment, line, data, export)
    if not export:
        _el(_el(shipment, "Importer"), "ID", _eori(data["importer"], "importer"))
    if export:
        # DE 2/1: the DUCR (year, EORI, the trader's reference), a previous document
        year = (now or datetime.now(UTC)).year % 10
        ducr = re.sub(r"[^A-Z0-9]", "", data["reference"].upper())[:19]
        previous = _el(shipment, "PreviousDocument")
        _el(previous, "CategoryCode", "Z")
        _el(previous, "ID", f"{year}{_eori(data['exporter'], 'exporter')}-{ducr}"[:35])
        _el(previous, "TypeCode", "DCR")
        _el(previous, "LineNumeric", 1)
    if data.get("incoterm"):
        terms = _el(shipment, "TradeTerms")
        _el(terms, "ConditionCode", data["incoterm"]["code"])
        if data["incoterm"].get("place"):
            _el(terms, "LocationName", data["incoterm"]["place"][:35])
    return _serialise(root)


def _reason(parent, text):
    info = _el(parent, "AdditionalInformation")
    _el(info, "StatementDescription", text[:512])
    _el(info, "StatementTypeCode", "AES")  # a free-text reason, for amendments and cancellations
    for section in ("42A", "06A"):  # the declaration, and its amendment
        pointer = _el(info, "Pointer")
        _el(pointer, "SequenceNumeric", 1)
        _el(pointer, "DocumentSectionCode", section)


def build_amendment(data, mrn, reason):
    """A new version of a declaration HMRC registered (``mrn``): a ``COR`` additional message
    carrying every goods item again (``ChangeReasonCode`` 28, amend weight or quantity, as in
    HMRC's amendment samples)."""
    export = data["direction"] == "export"
    root = _metadata()
    declaration = etree.SubElement(root, f"{{{NS_DEC}}}Declaration")
    _el(declaration, "FunctionCode", 13)
    _el(declaration, "FunctionalReferenceID", lrn(data["reference"], data["version"]))
    _el(declaration, "ID", mrn)
    _el(declaration, "TypeCode", "COR")
    _reason(declaration, reason)
    amendment = _el(declaration, "Amendment")
    _el(amendment, "ChangeReasonCode", "28")
    for section in ("42A", "67A"):
        pointer = _el(amendment, "Pointer")
        _el(pointer, "SequenceNumeric", 1)
        _el(pointer, "DocumentSectionCode", section)
    shipment = _el(declaration, "GoodsShipment")
    for line in data["lines"]:
        _goods_item(shipment, line, data, export)
    return _serialise(root)


def build_cancellation(data, submitter=None):
    """A canonical ``customs.cancel`` as HMRC's cancellation request (``INV``)."""
    if not data.get("broker_reference"):
        raise CdsFormatError(
            "HMRC gave no MRN for it yet: a cancellation request names the declaration by "
            "its MRN (Declaration/ID)"
        )
    root = _metadata()
    declaration = etree.SubElement(root, f"{{{NS_DEC}}}Declaration")
    _el(declaration, "FunctionCode", 13)
    _el(declaration, "FunctionalReferenceID", lrn(data["reference"], data["version"]))
    _el(declaration, "ID", data["broker_reference"])
    _el(declaration, "TypeCode", "INV")
    if submitter:
        _el(_el(declaration, "Submitter"), "ID", submitter)
    _reason(declaration, data["reason"])
    _el(_el(declaration, "Amendment"), "ChangeReasonCode", "1")  # the declaration is cancelled
    return _serialise(root)


def _serialise(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# notifications -------------------------------------------------------------------------------
#: DMS function code -> (name, canonical status, what it says). From HMRC's end-to-end service
#: guide (Receiving notifications, Notification types and definitions).
NOTIFICATIONS = {
    "01": ("DMSACC", "accepted", "HMRC legally accepted the declaration"),
    "02": ("DMSRCV", "submitted", "HMRC registered the message"),
    "03": ("DMSREJ", "rejected", "HMRC rejected the message"),
    "05": ("DMSCTL", "inspection", "HMRC intend to examine the goods physically"),
    "06": ("DMSDOC", "documents_required", "HMRC ask for documents"),
    "07": ("DMSRES", "accepted", "Corrections were applied to the declaration"),
    "08": (
        "DMSROG",
        "released",
        "HMRC released the goods (the debt is not final yet)",
    ),
    "09": ("DMSCLE", "released", "HMRC cleared the declaration: the goods may move"),
    "10": ("DMSINV", "cancelled", "HMRC cancelled (invalidated) the declaration"),
    "11": ("DMSREQ", "accepted", "HMRC answered an amendment or cancellation request"),
    "13": ("DMSTAX", "accepted", "HMRC assessed the duties and taxes"),
    "14": (
        "DMSCPI",
        "documents_required",
        "The deferment account's balance does not cover the duties",
    ),
    "15": (
        "DMSCPR",
        "documents_required",
        "Reminder: the duties are still to be paid or covered",
    ),
    "16": ("DMSEOG", "released", "The goods exited the UK"),
    "17": ("DMSEXT", "inspection", "HMRC handle the declaration manually"),
    "18": (
        "DMSGER",
        "released",
        "HMRC have not received the exit results yet: proof of exit may be needed",
    ),
    "50": ("DMSALV", "inspection", "Defra decided to delay the clearance"),
    "51": ("DMSQRY", "documents_required", "HMRC raised a query: answer it in the secure messages"),
}
#: DMSREQ status codes (Status/NameCode)
REQUEST_ANSWERS = {"39": "granted", "41": "denied"}


def _parser():
    return etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True)


def _local(node):
    return etree.QName(node).localname if isinstance(node.tag, str) else None


def _child(node, *names):
    for name in names:
        if node is None:
            return None
        node = next((c for c in node if _local(c) == name), None)
    return node


def _children(node, name):
    return [c for c in node if _local(c) == name] if node is not None else []


def _text(node, *names):
    found = _child(node, *names) if names else node
    return (found.text or "").strip() if found is not None and found.text else None


def parse_datetime(text):
    """A WCO date-time of format code 304 (``20191113172216Z``, ``20230605173755+01``) as an
    ISO 8601 string; None for anything else (free text such as ``Wed Nov 13 ...``)."""
    match = re.fullmatch(r"(\d{14})(Z|[+-]\d{2}(?:\d{2})?)", (text or "").strip())
    if not match:
        return None
    moment = datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
    zone = match.group(2)
    if zone == "Z":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5] or 0)))
    return moment.replace(tzinfo=tz).astimezone(UTC).isoformat()


def _pointer(error):
    """``(HMRC's pointer as text, canonical pointer)``: ``42A/67A/68A[1]/70A[1]#166`` (the
    declaration, its goods shipment, goods item 1, ...; ``#`` the element's tag), and
    ``/lines/0`` when it points into a goods item (68A), else HMRC's pointer."""
    parts, line = [], None
    for pointer in _children(error, "Pointer"):
        section = _text(pointer, "DocumentSectionCode") or "?"
        seq = _text(pointer, "SequenceNumeric")
        tag = _text(pointer, "TagID")
        parts.append(section + (f"[{seq}]" if seq else "") + (f"#{tag}" if tag else ""))
        if section == "68A" and seq and seq.isdigit():
            line = int(seq) - 1
    text = "/".join(parts) or None
    return text, (f"/lines/{line}" if line is not None else text)


def _duties(declaration):
    totals = {}
    for fee in declaration.iter():
        if _local(fee) != "DutyTaxFee":
            continue
        payment = _child(fee, "Payment")
        amount = _child(payment, "PaymentAmount")
        if amount is None:
            amount = _child(payment, "TaxAssessedAmount")
        if amount is None or not (amount.text or "").strip():
            continue
        code = (_text(fee, "TypeCode") or "").upper()
        kind = {"A": "duty", "B": "vat"}.get(code[:1], "excise" if code[:1].isdigit() else "fee")
        currency = amount.get("currencyID") or "GBP"
        key = (kind, currency)
        if not re.fullmatch(r"-?\d+(\.\d+)?", amount.text.strip()):
            raise CdsFormatError(
                f"DMSTAX: DutyTaxFee/Payment/{_local(amount)} of duty {code or '?'} is "
                f"{amount.text.strip()!r}, not a decimal amount"
            )
        totals[key] = round(totals.get(key, 0.0) + float(amount.text), 2)
    return [{"type": k, "amount": v, "currency": c} for (k, c), v in totals.items()]


def parse_notification(body):
    """A DMS notification (bytes) as ``(notice, canonical customs.status dict)``: the notice
    is the DMS name (``DMSACC``), with HMRC's answer for a DMSREQ (``DMSREQ denied``). Raises
    :class:`CdsFormatError` naming the element."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise CdsFormatError(f"the notification is not well-formed XML: {exc}") from None
    if _local(root) != "MetaData":
        raise CdsFormatError(f"the notification's root element is {_local(root)}, not MetaData")
    response = _child(root, "Response")
    if response is None:
        raise CdsFormatError("the notification has no Response element")
    code = _text(response, "FunctionCode")
    if code not in NOTIFICATIONS:
        raise CdsFormatError(
            f"Response/FunctionCode {code!r} is not a DMS notification this integration knows"
        )
    name, status, sentence = NOTIFICATIONS[code]
    declaration = _child(response, "Declaration")
    reference = _text(declaration, "FunctionalReferenceID")
    if not reference:
        raise CdsFormatError(
            f"{name}: Response/Declaration/FunctionalReferenceID (the LRN) is missing"
        )
    match = LRN_VERSION.match(reference)
    data = {
        "reference": match.group("reference") if match else reference,
        "version": int(match.group("version")) if match else None,
        "status": status,
        "broker_reference": _text(declaration, "ID"),
        "event_time": parse_datetime(_text(response, "IssueDateTime", "DateTimeString")),
    }
    reason = [f"{sentence} ({name})."]
    notice = name
    infos = _children(response, "AdditionalInformation")
    if name == "DMSREQ":
        answer = REQUEST_ANSWERS.get(_text(response, "Status", "NameCode"))
        if answer:
            reason = [f"HMRC {answer} the amendment or cancellation request ({name})."]
            notice = f"{name} {answer}"
    if name == "DMSREJ":
        data["errors"] = []
        for error in _children(response, "Error"):
            code_ = _text(error, "ValidationCode")
            where, pointer = _pointer(error)
            text = _text(error, "Description") or f"HMRC validation rule {code_ or '?'}"
            data["errors"].append(
                {"code": code_, "text": f"{text} at {where}" if where else text, "pointer": pointer}
            )
    if status == "documents_required":
        documents = []
        for info in infos:
            code_ = _text(info, "StatementCode") or _text(info, "StatementTypeCode")
            text = _text(info, "StatementDescription")
            limit = parse_datetime(_text(info, "LimitDateTime", "DateTimeString"))
            label = text or sentence
            if limit:
                label += f" (by {limit[:10]})"
            documents.append({"code": code_, "name": label})
        data["documents_requested"] = documents or [{"code": name, "name": sentence}]
    else:
        for info in infos:
            text = _text(info, "StatementDescription")
            if text:
                kind = _text(info, "StatementTypeCode")
                if name == "DMSEOG" and kind == "CEX":
                    text = f"office of exit {text}"
                reason.append(text + ".")
    if name == "DMSTAX":
        data["duties"] = _duties(declaration)
    data["reason"] = " ".join(reason)
    return notice, data
