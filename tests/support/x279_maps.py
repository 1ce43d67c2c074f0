"""pyx12 maps for the 270 and 271 of 005010X279A1, which pyx12 4.0 does not ship (its maps.xml lists them only
in a comment, and asks for them: azoner/pyx12 issue 62). Written here from the implementation guide's loops,
segments, element usage and code lists, for the segments our writer and the payer simulator use and those a
payer's 271 commonly carries; pyx12's engine then checks envelopes, counts, hierarchy, lengths, types and codes.

`map_directory()` lays the installed maps, these two and a maps.xml that names them in a temporary folder."""

from __future__ import annotations

import functools
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

IMPLEMENTATION = "005010X279A1"


@dataclass(frozen=True)
class El:
    data_ele: str
    usage: str = "R"
    codes: tuple[str, ...] = ()
    external: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Comp:
    data_ele: str
    usage: str
    parts: tuple[El, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Seg:
    id: str
    usage: str
    max_use: str
    elements: tuple[El | Comp, ...]
    name: str = ""


@dataclass(frozen=True)
class Loop:
    xid: str
    usage: str
    repeat: str
    children: tuple[Seg | Loop, ...] = field(default_factory=tuple)
    name: str = ""


def codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


N = "N"

ENTITY_SOURCE = codes("2B 36 GP P5 PR")
ENTITY_RECEIVER = codes("1P 2B 36 80 FA GP P5 PR")
ID_SOURCE = codes("24 46 FI NI PI XV XX")
ID_RECEIVER = codes("24 34 46 FI PI PP SV XV XX")
BENEFITS = codes("1 2 3 4 5 6 7 8 A B C CB D E F G H I J K L M MC N O P Q R S T U V W X Y")
COVERAGE_LEVELS = codes("CHD DEP ECH EMP ESP FAM IND SPC SPO")
INSURANCE_TYPES = codes(
    "12 13 14 15 16 41 42 43 47 AP C1 CO CP D DB EP FF GP HM HN HS IN IP LC LD LI LT MA MB MC MH MI MP OT PE PL PP"
    " PR PS QM RP SP TF WC WU"
)
TIME_PERIODS = codes("6 7 13 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36")
QUANTITIES = codes("8H 99 CA CE D3 DB DY HS LA LE M2 MN P6 QA S7 S8 VS YY")
YES_NO = codes("N U Y")
REJECTIONS = codes(
    "04 15 33 35 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74"
    " 75 76 77 78 79 80 97 T4"
)
FOLLOW_UPS = codes("C N P R S W X Y")
SUBSCRIBER_DATES_270 = codes("102 291")
SUBSCRIBER_DATES_271 = codes(
    "096 102 152 291 307 318 340 341 342 343 346 347 356 357 382 435 442 458 472 539 540 636 771"
)
BENEFIT_DATES_271 = codes("096 193 194 198 290 291 292 295 304 307 318 346 347 348 349 356 357 435 472 636 771")
REFERENCES = codes("18 1L 1W 3H 49 6P CE CT EA EJ F6 GH HJ IF IG MRC N6 NQ Q4 SY Y4")


def hl(level: str) -> Seg:
    return Seg(
        "HL", "R", "1",
        (El("628"), El("734", "S" if level != "20" else N), El("735", "R", (level,)), El("736", "R", codes("0 1"))),
        "Hierarchical Level",
    )  # fmt: skip


def nm1(entities: tuple[str, ...], qualifiers: tuple[str, ...], person: bool = True, id_usage: str = "R") -> Seg:
    return Seg(
        "NM1", "R", "1",
        (
            El("98", "R", entities), El("1065", "R", codes("1 2") if person else ("2",)), El("1035", "S"),
            El("1036", "S"), El("1037", "S"), El("1038", N), El("1039", "S"), El("66", id_usage, qualifiers),
            El("67", id_usage), El("706", N), El("98", N), El("1035", N),
        ),
        "Name",
    )  # fmt: skip


def ref(qualifiers: tuple[str, ...], max_use: str = "9") -> Seg:
    return Seg("REF", "S", max_use, (El("128", "R", qualifiers), El("127"), El("352", "S"), Comp("C040", N)))


ADDRESS = (
    Seg("N3", "S", "1", (El("166"), El("166", "S"))),
    Seg(
        "N4", "S", "1",
        (El("19"), El("156", "S", external="states"), El("116", "S"), El("26", "S", external="country"),
         El("309", N), El("310", N), El("1715", "S")),
    ),
)  # fmt: skip
PRV = Seg(
    "PRV", "S", "1",
    (El("1221", "R", codes("AD AT BI CO CV H HH LA OT P1 P2 PC PE R RF SK SU")), El("128", "R", ("PXC",)),
     El("127"), El("156", N), Comp("C035", N), El("1223", N)),
)  # fmt: skip
DMG = Seg(
    "DMG", "S", "1",
    (El("1250", "R", ("D8",)), El("1251"), El("1068", "S", codes("F M U")), El("1067", N), Comp("C056", N),
     El("659", N), El("380", N), El("1271", N), El("1250", N), El("1251", N), El("1271", N)),
)  # fmt: skip
INS = Seg(
    "INS", "S", "1",
    (El("1073", "R", ("Y",)), El("1069", "R", ("18",)), El("875", "S", ("001",)), El("1203", "S", ("25",)),
     El("1216", N), El("1218", N), El("1219", N), El("584", N), El("1220", N), El("1073", N), El("1250", N),
     El("1251", N), El("1165", N), El("19", N), El("156", N), El("26", N), El("1470", "S")),
)  # fmt: skip
AAA = Seg(
    "AAA", "S", "9",
    (El("1073", "R", codes("N Y")), El("559", N), El("901", "R", REJECTIONS), El("889", "R", FOLLOW_UPS)),
)  # fmt: skip
PER = Seg(
    "PER", "S", "3",
    (El("366", "R", ("IC",)), El("93", "S"), El("365", "S", codes("ED EM FX TE UR")), El("364", "S"),
     El("365", "S", codes("ED EM EX FX TE UR")), El("364", "S"), El("365", "S", codes("ED EM EX FX TE UR")),
     El("364", "S"), El("443", N)),
)  # fmt: skip


def dtp(qualifiers: tuple[str, ...], max_use: str) -> Seg:
    return Seg("DTP", "S", max_use, (El("374", "R", qualifiers), El("1250", "R", codes("D8 RD8")), El("1251")))


def trn(types: tuple[str, ...]) -> Seg:
    return Seg("TRN", "S", "3", (El("481", "R", types), El("127"), El("509"), El("127", "S")))


def source_and_receiver(request: bool, subscriber: tuple[Seg | Loop, ...]) -> Loop:
    rejections = () if request else (AAA,)
    source_name = Loop(
        "2100A", "R", "1",
        (nm1(ENTITY_SOURCE, ID_SOURCE), *(() if request else (PER, AAA))),
        "Information Source Name",
    )  # fmt: skip
    receiver_name = Loop(
        "2100B", "R", "1",
        (nm1(ENTITY_RECEIVER, ID_RECEIVER), ref(codes("0B 1C 1D 1J 4A CT EL EO HPI JD N5 N7 Q4 SY TJ")), *ADDRESS,
         *rejections, PRV),
        "Information Receiver Name",
    )  # fmt: skip
    receiver = Loop(
        "2000B", "S", ">1", (hl("21"), receiver_name, *subscriber), "Information Receiver Level"
    )  # fmt: skip
    return Loop("2000A", "R", ">1", (hl("20"), *rejections, source_name, receiver), "Information Source Level")


def inquiry_loops() -> Loop:
    """270 loops 2000A to 2110C (2000D/2100D/2110D for a dependent)."""

    def person(level: str, hl_code: str, entity: str, children: tuple[Seg | Loop, ...] = ()) -> Loop:
        eligibility = Loop(
            f"2110{level}", "S", "99",
            (
                Seg("EQ", "R", "1", (El("1365", "S", external="service_type"), Comp("C003", N), El("1207", N),
                                     El("1336", N), Comp("C004", N))),
                Seg("AMT", "S", "2", (El("522", "R", codes("PB R")), El("782"), El("478", N))),
                Seg("III", "S", "1", (El("1270", "R", ("ZZ",)), El("1271", "R", external="pos"))),
                ref(("9F", "G1"), "1"),
                dtp(("291",), "1"),
            ),
            "Eligibility or Benefit Inquiry",
        )  # fmt: skip
        name = Loop(
            f"2100{level}", "R", "1",
            (nm1((entity,), codes("II MI") if entity == "IL" else (), id_usage="S" if entity != "IL" else "R"),
             ref(REFERENCES), *ADDRESS, PRV, DMG, INS,
             Seg("HI", "S", "1", tuple(Comp("C022", "S" if n else "R", (El("1270", "R", codes("ABK ABF BK BF")),
                                      El("1271"))) for n in range(8))),
             dtp(SUBSCRIBER_DATES_270, "1"), eligibility),
            "Name",
        )  # fmt: skip
        return Loop(f"2000{level}", "S", ">1", (hl(hl_code), trn(("1",)), name, *children), "Level")

    dependent = person("D", "23", "03")
    return source_and_receiver(True, (person("C", "22", "IL", (dependent,)),))


def response_loops() -> Loop:
    """271 loops 2000A to 2120C (and their 2000D dependents)."""

    def person(level: str, hl_code: str, entity: str, children: tuple[Seg | Loop, ...] = ()) -> Loop:
        benefit_contact = Loop(
            f"2120{level}", "S", "23",
            (nm1(codes("13 1I 1P 2B 36 73 FA GP GW I3 IL LR OC P3 P4 P5 PR PRP SEP TTP VER VN VY X3 Y2"),
                 codes("24 34 46 FA FI II MI NI PI PP SV XV XX"), id_usage="S"),
             *ADDRESS, PER, PRV),
            "Benefit Related Entity Name",
        )  # fmt: skip
        benefit = Loop(
            f"2110{level}", "S", ">1",
            (
                Seg("EB", "R", "1", (
                    El("1390", "R", BENEFITS), El("1207", "S", COVERAGE_LEVELS),
                    El("1365", "S", external="service_type"), El("1336", "S", INSURANCE_TYPES), El("1204", "S"),
                    El("615", "S", TIME_PERIODS), El("782", "S"), El("954", "S"), El("673", "S", QUANTITIES),
                    El("380", "S"), El("1073", "S", YES_NO), El("1073", "S", codes("N U W Y")), Comp("C003", "S"),
                    Comp("C004", "S"),
                )),
                Seg("HSD", "S", "9", (El("673", "S", codes("DY FL HS MN VS")), El("380", "S"),
                                      El("355", "S", codes("DA MO VS WK YR")), El("1167", "S"),
                                      El("615", "S", TIME_PERIODS), El("616", "S"), El("678", "S"), El("679", "S"))),
                ref(codes("18 1L 1W 49 6P 9F ALS CLI FO G1 IG M7 N6 NQ Y4"), "9"),
                dtp(BENEFIT_DATES_271, "20"),
                AAA,
                Seg("MSG", "S", "10", (El("933"), El("934", N), El("1470", N))),
                Loop(f"2115{level}", "S", "10", (
                    Seg("III", "R", "1", (El("1270", "S", codes("GR NI ZZ")), El("1271", "S"),
                                          El("1136", "S", codes("44")), El("933", "S"))),
                ), "Eligibility or Benefit Additional Information"),
                Seg("LS", "S", "1", (El("447", "R", ("2120",)),)),
                benefit_contact,
                Seg("LE", "S", "1", (El("447", "R", ("2120",)),)),
            ),
            "Eligibility or Benefit Information",
        )  # fmt: skip
        name = Loop(
            f"2100{level}", "R", "1",
            (nm1((entity,), codes("II MI") if entity == "IL" else (), id_usage="S"), ref(REFERENCES), *ADDRESS,
             AAA, PRV, DMG, INS,
             Seg("HI", "S", "1", tuple(Comp("C022", "S" if n else "R", (El("1270", "R", codes("ABK ABF BK BF")),
                                      El("1271"))) for n in range(8))),
             dtp(SUBSCRIBER_DATES_271, "9"),
             Seg("MPI", "S", "1", (El("1201", "R", codes("A C L O P S U")), El("1584", "R", codes(
                 "AE AO AS FT NA RA RE RU")), El("1138", "S", codes("A B C E F G N O")), El("1595", "S"),
                 El("1596", "S"), El("1250", "S", codes("D8 RD8")), El("1251", "S"))),
             benefit),
            "Name",
        )  # fmt: skip
        return Loop(f"2000{level}", "S", ">1", (hl(hl_code), trn(codes("1 2")), name, *children), "Level")

    dependent = person("D", "23", "03")
    return source_and_receiver(False, (person("C", "22", "IL", (dependent,)),))


# ---------------------------------------------------------------- to pyx12's XML


def _element(parent: ET.Element, element: El, xid: str, seq: int) -> None:
    node = ET.SubElement(parent, "element", xid=xid)
    ET.SubElement(node, "data_ele").text = element.data_ele
    ET.SubElement(node, "name").text = element.name or xid
    ET.SubElement(node, "usage").text = element.usage
    ET.SubElement(node, "seq").text = f"{seq:02d}"
    if element.external:
        ET.SubElement(node, "valid_codes", external=element.external)
    elif element.codes:
        valid = ET.SubElement(node, "valid_codes")
        for code in element.codes:
            ET.SubElement(valid, "code").text = code


def _segment(parent: ET.Element, segment: Seg, pos: int) -> None:
    node = ET.SubElement(parent, "segment", xid=segment.id)
    ET.SubElement(node, "name").text = segment.name or segment.id
    ET.SubElement(node, "usage").text = segment.usage
    ET.SubElement(node, "pos").text = f"{pos:04d}"
    ET.SubElement(node, "max_use").text = segment.max_use
    for number, item in enumerate(segment.elements, 1):
        xid = f"{segment.id}{number:02d}"
        if isinstance(item, Comp):
            composite = ET.SubElement(node, "composite")
            ET.SubElement(composite, "data_ele").text = item.data_ele
            ET.SubElement(composite, "name").text = item.name or xid
            ET.SubElement(composite, "usage").text = item.usage
            ET.SubElement(composite, "seq").text = f"{number:02d}"
            for index, part in enumerate(item.parts, 1):
                _element(composite, part, f"{xid}-{index:02d}", index)
        else:
            _element(node, item, xid, number)


def _children(parent: ET.Element, children: tuple[Seg | Loop, ...], start: int) -> None:
    for offset, child in enumerate(children):
        pos = start + offset * 10
        if isinstance(child, Loop):
            _loop(parent, child, pos)
        else:
            _segment(parent, child, pos)


def _loop(parent: ET.Element, loop: Loop, pos: int) -> None:
    node = ET.SubElement(parent, "loop", xid=loop.xid)
    ET.SubElement(node, "name").text = loop.name or loop.xid
    ET.SubElement(node, "usage").text = loop.usage
    ET.SubElement(node, "pos").text = f"{pos:04d}"
    ET.SubElement(node, "repeat").text = loop.repeat
    _children(node, loop.children, 100)


def _codes_of(root: ET.Element, xid: str, values: tuple[str, ...]) -> None:
    element = next(e for e in root.iter("element") if e.get("xid") == xid)
    valid = element.find("valid_codes")
    assert valid is not None
    for code in list(valid):
        valid.remove(code)
    for value in values:
        ET.SubElement(valid, "code").text = value


def transaction_map(transaction_set: str, functional_id: str, request: bool) -> ET.ElementTree:
    """The 999 map's envelope (ISA, GS, ST, SE, GE, IEA as 5010 has them) around the 270's or 271's loops."""
    base = ET.parse(str(files("pyx12") / "map" / "999.5010X231.A1.xml"))
    root = base.getroot()
    root.set("xid", transaction_set)
    name = root.find("name")
    if name is not None:
        name.text = f"HIPAA Health Care Eligibility {'Inquiry' if request else 'Response'} {IMPLEMENTATION}"
    _codes_of(root, "GS01", (functional_id,))
    _codes_of(root, "GS08", (IMPLEMENTATION,))
    _codes_of(root, "ST01", (transaction_set,))
    _codes_of(root, "ST03", (IMPLEMENTATION,))
    st_loop = next(loop for loop in root.iter("loop") if loop.get("xid") == "ST_LOOP")
    for loop in [child for child in st_loop if child.tag == "loop"]:
        st_loop.remove(loop)
    se = next(child for child in st_loop if child.tag == "segment" and child.get("xid") == "SE")
    header = ET.Element("loop", xid="HEADER", type="wrapper")
    for tag, text in (("name", "Table 1 - Header"), ("usage", "R"), ("pos", "0100"), ("repeat", "1")):
        ET.SubElement(header, tag).text = text
    bht_purposes = codes("01 13") if request else codes("06 11")
    bht = Seg(
        "BHT", "R", "1",
        (El("1005", "R", ("0022",)), El("353", "R", bht_purposes), El("127", "R" if request else "S"), El("373"),
         El("337"), El("640", N)),
    )  # fmt: skip
    _segment(header, bht, 200)
    detail = ET.Element("loop", xid="DETAIL", type="wrapper")
    for tag, text in (("name", "Table 2 - Detail"), ("usage", "R"), ("pos", "0200"), ("repeat", ">1")):
        ET.SubElement(detail, tag).text = text
    _loop(detail, inquiry_loops() if request else response_loops(), 100)
    position = list(st_loop).index(se)
    st_loop.insert(position, detail)
    st_loop.insert(position, header)
    return base


@functools.cache
def map_directory() -> str:
    """pyx12's installed maps with the 270 and 271 of 005010X279A1 beside them, and a maps.xml naming them."""
    folder = Path(tempfile.mkdtemp(prefix="x279-maps-"))
    source = files("pyx12") / "map"
    for entry in source.iterdir():
        if entry.name.endswith((".xml", ".xsd")):
            shutil.copyfile(str(entry), folder / entry.name)
    transaction_map("270", "HS", True).write(folder / "270.5010.X279.A1.xml", encoding="utf-8", xml_declaration=True)
    transaction_map("271", "HB", False).write(folder / "271.5010.X279.A1.xml", encoding="utf-8", xml_declaration=True)
    index = ET.parse(folder / "maps.xml")
    version = next(v for v in index.getroot().iter("version") if v.get("icvn") == "00501")
    for transaction_set, functional_id in (("270", "HS"), ("271", "HB")):
        entry = ET.Element("map", vriic=IMPLEMENTATION, fic=functional_id, abbr=transaction_set)
        entry.text = f"{transaction_set}.5010.X279.A1.xml"
        version.insert(0, entry)
    index.write(folder / "maps.xml", encoding="utf-8", xml_declaration=True)
    return str(folder)
