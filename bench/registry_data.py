"""Data generator for the registry benchmarks: N valid registry rows in the national
export's columns (and the organizations themselves, in bulk, for the list and scan)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from procure.organizations.creditcode import ALPHABET, TYPE_DIGIT, check_character
from procure.organizations.models import OrgKind

HEADER = ["序号", "社会组织名称", "统一社会信用代码", "社会组织类型", "登记管理机关", "业务主管单位", "法定代表人",
          "成立登记日期", "住所", "登记状态"]
DISTRICTS = [("500103", "渝中区"), ("500105", "江北区"), ("500106", "沙坪坝区"), ("500107", "九龙坡区"),
             ("500108", "南岸区"), ("500109", "北碚区"), ("500112", "渝北区"), ("500113", "巴南区"),
             ("500000", "")]
TYPE_NAMES = {OrgKind.SOCIAL_GROUP: "社会团体", OrgKind.SERVICE_ORG: "民办非企业单位", OrgKind.FOUNDATION: "基金会"}
#: The seed city's mix: 7,767 social groups, 9,499 service organizations, 77 foundations.
MIX = [(OrgKind.SOCIAL_GROUP, 7767), (OrgKind.SERVICE_ORG, 9499), (OrgKind.FOUNDATION, 77)]


def code_for(kind: OrgKind, division: str, n: int) -> str:
    serial = ""
    for _ in range(7):
        serial = ALPHABET[n % 31] + serial
        n //= 31
    first = "5" + TYPE_DIGIT[kind] + division + "MJ" + serial
    return first + check_character(first)


def rows(n: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    total = sum(c for _k, c in MIX)
    kinds = [k for k, c in MIX for _ in range(c)]
    out = []
    for i in range(n):
        kind = kinds[i % total]
        division, district = DISTRICTS[i % len(DISTRICTS)]
        authority = f"重庆市{district}民政局" if district else "重庆市民政局"
        out.append({"name": f"重庆市{district}第{i}号{TYPE_NAMES[kind][:2]}组织",
                    "credit_code": code_for(kind, division, i),
                    "kind": kind, "registration_authority": authority, "supervisor": None,
                    "legal_representative": f"法人{i}", "address": f"重庆市{district}测试路{i}号",
                    "registration_date": date(2000, 1, 1) + timedelta(days=rnd.randrange(9000))})
    return out


def csv_bytes(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for i, r in enumerate(rows(n), start=1):
        w.writerow([i, r["name"], r["credit_code"], TYPE_NAMES[r["kind"]], r["registration_authority"], "",
                    r["legal_representative"], r["registration_date"].isoformat(), r["address"], "正常"])
    return buf.getvalue().encode("utf-8-sig")
