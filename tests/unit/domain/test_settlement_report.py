"""Reading a settlement report: exact minor units, and every malformed line refused by number."""

from __future__ import annotations

from datetime import date

import pytest

from paycon.domain.settlement_report import LineType, MalformedReport, parse_report

HEADER = "gateway_reference,transaction_id,type,gross,fee,net,currency,value_date\r\n"


def test_a_report_reads_as_minor_units() -> None:
    text = (
        HEADER
        + "GA0000000001,tx_1,deposit,100.00,1.75,98.25,EUR,2026-12-03\r\n"
        + "GA0000000002,tx_2,withdrawal,20.00,0.55,-20.55,EUR,2026-12-03\r\n"
        + "GA0000000001,tx_1,reversal,100.00,0.00,-100.00,EUR,2026-12-03\r\n"
        + "GA0000000003,tx_3,deposit,1000,40,960,JPY,2026-12-03\r\n"
    )
    lines = parse_report(text)
    assert [(x.type, x.gross_minor, x.fee_minor, x.net_minor) for x in lines] == [
        (LineType.DEPOSIT, 10000, 175, 9825),
        (LineType.WITHDRAWAL, 2000, 55, -2055),
        (LineType.REVERSAL, 10000, 0, -10000),
        (LineType.DEPOSIT, 1000, 40, 960),
    ]
    assert [x.signed_gross_minor for x in lines] == [10000, -2000, -10000, 1000]
    assert lines[0].value_date == date(2026, 12, 3)
    assert [x.line_no for x in lines] == [2, 3, 4, 5]
    assert lines[0].key == "GA0000000001:deposit"


def test_columns_added_at_the_end_are_ignored_and_a_header_alone_is_empty() -> None:
    assert parse_report(HEADER) == []
    extra = (
        HEADER.replace("\r\n", ",batch\r\n") + "G1,tx_1,deposit,1.00,0.00,1.00,EUR,2026-12-03,7\r\n"
    )
    assert parse_report(extra)[0].net_minor == 100


@pytest.mark.parametrize(
    ("text", "line_no", "words"),
    [
        ("", 1, "empty"),
        ("gateway_reference,transaction_id\r\n", 1, "lacks the column(s) type"),
        (HEADER + "G1,tx_1,deposit,1.00,0.00\r\n", 2, "fields"),
        (HEADER + "G1,tx_1,refund,1.00,0.00,1.00,EUR,2026-12-03\r\n", 2, "type 'refund'"),
        (HEADER + "G1,tx_1,deposit,1.00,0.00,1.00,XXX,2026-12-03\r\n", 2, "currency 'XXX'"),
        (HEADER + "G1,tx_1,deposit,1.5,0,1.5,JPY,2026-12-03\r\n", 2, "more decimals than JPY"),
        (HEADER + "G1,tx_1,deposit,1e2,0.00,100.00,EUR,2026-12-03\r\n", 2, "not a decimal"),
        (HEADER + "G1,tx_1,deposit,1.00,0.10,1.00,EUR,2026-12-03\r\n", 2, "does not follow"),
        (HEADER + "G1,tx_1,withdrawal,1.00,0.10,-1.00,EUR,2026-12-03\r\n", 2, "does not follow"),
        (HEADER + "G1,tx_1,deposit,-1.00,0.00,-1.00,EUR,2026-12-03\r\n", 2, "never negative"),
        (HEADER + "G1,tx_1,deposit,1.00,0.00,1.00,EUR,2026-02-30\r\n", 2, "not a date"),
        (HEADER + "G1,,deposit,1.00,0.00,1.00,EUR,2026-12-03\r\n", 2, "transaction_id is empty"),
        (
            HEADER
            + "G1,tx_1,deposit,1.00,0.00,1.00,EUR,2026-12-03\r\n"
            + "G2,tx_2,deposit,1.00,0.00,1.00,EUR,2026-12-03\r\n"
            + "G1,tx_1,deposit,1.00,0.00,1.00,EUR,2026-12-03\r\n",
            4,
            "repeats the line 2",
        ),
        (HEADER + 'G1,"tx_1,deposit\r\n', 2, "not CSV"),
    ],
)
def test_a_malformed_report_names_its_line(text: str, line_no: int, words: str) -> None:
    with pytest.raises(MalformedReport) as caught:
        parse_report(text)
    assert caught.value.line_no == line_no
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"line {line_no}: ")
