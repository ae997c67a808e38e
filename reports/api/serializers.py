"""The stats API's shapes: the query (an area and a period) in, the report's figures out.

Rates are numbers from 0 to 1, or null when their sample n is 0 (nothing to measure, not 0 %);
every rate comes with its numerator and its n. Hours are decimal strings, as everywhere in the
API (volunteers' hours). Petitions appear by number only, never a person.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.views import ID_LOOKUP_REGEX
from petitions.models import Petition, Tier
from reports.forms import FIRST_YEAR
from reports.models import MonthlyReport
from territory.models import Area

PERIOD = re.compile(r"^([0-9]{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")  # ASCII digits only
AREA_ID = re.compile(rf"^{ID_LOOKUP_REGEX}$")
Kind = MonthlyReport.Kind
PERIOD_FORMAT = _("请按 2026-11（月份）或 2026-Q4（季度）的格式填写统计期间。")


def parse_period(text: str, *, today: date) -> tuple[date, str]:
    """`2026-11` (a month) or `2026-Q4` (a quarter) as its first day and kind; from 2000 up
    to the period holding `today` (the current one is partial), else a ValidationError."""
    match = PERIOD.match(text)
    if match is None:
        raise serializers.ValidationError(PERIOD_FORMAT)
    year = int(match[1])
    if match[2] is not None:
        start, kind = (date(year, int(match[2]), 1) if year else None), Kind.MONTH
    else:
        start, kind = (date(year, int(match[3]) * 3 - 2, 1) if year else None), Kind.QUARTER
    if start is None or year < FIRST_YEAR or start > today:
        raise serializers.ValidationError(_("统计期间须在 2000 年以后，且不晚于本月或本季度。"))
    return start, kind


class StatsQueryInput(serializers.Serializer[dict[str, Any]]):
    # Strings checked by pattern (in the schema too): an IntegerField would take "1.0" and " 7 ".
    area = serializers.RegexField(
        AREA_ID, required=False, error_messages={"invalid": _("区域编号无效。")},
        help_text="区域编号（街道、社区、网格或微网格）；省略时为调用者自己的管辖区域"
                  "（API 密钥的管辖区域）。")
    period = serializers.RegexField(
        PERIOD, error_messages={"invalid": PERIOD_FORMAT},
        help_text="统计期间：月份 YYYY-MM（如 2026-11）或季度 YYYY-Qn（如 2026-Q4）；"
                  "2000 年以后、不晚于当前期间（当前期间为截至此刻的数字）。")

    def validate_area(self, value: str) -> int:
        return int(value)

    def validate_period(self, value: str) -> tuple[date, str]:
        return parse_period(value, today=timezone.localdate())


# --- output (documentation and rendering; the view fills plain dicts) -------------------------


class StatsRankingsInput(StatsQueryInput):
    rate = serializers.ChoiceField(
        choices=[("resolution", "办结率"), ("response", "响应率"), ("satisfaction", "满意率")],
        default="resolution", required=False,
        error_messages={"invalid_choice": _("考核指标须为 resolution、response 或 satisfaction。")},
        help_text="排名所按的指标：resolution 办结率（默认）、response 响应率、"
                  "satisfaction 满意率。")


class StatsAreaOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Area.Kind.choices)
    kind_label = serializers.CharField()


class StatsPeriodOutput(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(help_text="查询时的期间写法，如 2026-11 或 2026-Q4")
    kind = serializers.ChoiceField(choices=Kind.choices)
    start = serializers.DateField(help_text="第一天")
    end = serializers.DateField(help_text="最后一天（含）")
    is_complete = serializers.BooleanField(help_text="期间已结束；否则为截至此刻的数字")


class StatsChannelOutput(serializers.Serializer[dict[str, Any]]):
    code = serializers.ChoiceField(choices=Petition.Channel.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # DRF pops declared fields
    n = serializers.IntegerField(min_value=0)


class StatsCategoryOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    n = serializers.IntegerField(min_value=0)


class StatsSubareaOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField(allow_null=True,
                                  help_text="null：诉求登记在本区域本身，未落到下级区域")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Area.Kind.choices)
    n = serializers.IntegerField(min_value=0)


class StatsIntakeOutput(serializers.Serializer[dict[str, Any]]):
    total = serializers.IntegerField(min_value=0, help_text="期间内受理的诉求（不含不予受理）")
    by_channel = StatsChannelOutput(many=True)
    by_category = StatsCategoryOutput(many=True)
    by_subarea = StatsSubareaOutput(
        many=True, help_text="按下一级区域：街道按社区，社区按网格，网格按微网格")


class StatsRateOutput(serializers.Serializer[dict[str, Any]]):
    rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1,
                                  help_text="0–1；样本为 0 时为 null")
    numerator = serializers.IntegerField(min_value=0)
    n = serializers.IntegerField(min_value=0, help_text="样本数（分母）")


class StatsTierRateOutput(StatsRateOutput):
    tier = serializers.ChoiceField(choices=Tier.choices)
    tier_label = serializers.CharField()


class StatsRatesOutput(serializers.Serializer[dict[str, Any]]):
    response = StatsRateOutput(help_text="响应率：按时到场 / 已派单")
    resolution = StatsRateOutput(help_text="办结率：已办结 / 受理")
    satisfaction = StatsRateOutput(help_text="满意率：满意与基本满意 / 已评价")
    on_time = StatsTierRateOutput(many=True, help_text="按时办结率，按办结层级")


class StatsPetitionListOutput(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=0)
    petitions = serializers.ListField(child=serializers.IntegerField(), help_text="诉求编号")


class StatsPairOutput(serializers.Serializer[dict[str, Any]]):
    compound = serializers.CharField()
    building = serializers.CharField()
    category = serializers.CharField()
    n = serializers.IntegerField(min_value=0)


class StatsReportOutput(serializers.Serializer[dict[str, Any]]):
    area = StatsAreaOutput()
    period = StatsPeriodOutput()
    intake = StatsIntakeOutput()
    rates = StatsRatesOutput()
    overdue = StatsPetitionListOutput(help_text="期末超过时限仍未办结的诉求（含此前受理的）")
    supervised = StatsPetitionListOutput(help_text="期间内被督办的诉求")
    top_pairs = StatsPairOutput(many=True, help_text="同一楼栋同一类别两件以上，最多 10 组")
    topics_closed = serializers.IntegerField(
        allow_null=True, min_value=0,
        help_text="期间内办结的议题；网格及以下为 null（议题属于小区）")
    volunteer_hours = serializers.DecimalField(
        max_digits=9, decimal_places=1, allow_null=True,
        help_text="期间内已审核的志愿服务时长（小时）；网格及以下为 null")
    computed_at = serializers.DateTimeField(help_text="数字的计算时间（过去的期间最多缓存 10 分钟，"
                                                      "当前期间最多 1 分钟）")


class StatsRankingRowOutput(serializers.Serializer[dict[str, Any]]):
    rank = serializers.IntegerField(allow_null=True, min_value=1,
                                    help_text="名次（1 为最好）；样本不足的网格为 null")
    grid = StatsSubareaOutput()
    rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1,
                                  help_text="0–1；样本为 0 时为 null")
    numerator = serializers.IntegerField(min_value=0)
    n = serializers.IntegerField(min_value=0, help_text="样本数（分母）")
    low = serializers.FloatField(min_value=0, max_value=1, help_text="Wilson 95% 置信区间下限")
    high = serializers.FloatField(min_value=0, max_value=1, help_text="Wilson 95% 置信区间上限")


class StatsRankingsOutput(serializers.Serializer[dict[str, Any]]):
    area = StatsAreaOutput()
    period = StatsPeriodOutput()
    street = StatsAreaOutput(help_text="排名所在的街道（中位数、剔除数按全街道计）")
    rate = serializers.CharField(help_text="resolution、response 或 satisfaction")
    rate_label = serializers.CharField()
    min_sample = serializers.IntegerField(min_value=0, help_text="参与排名的最少样本数")
    median = serializers.FloatField(allow_null=True, help_text="全街道参与排名网格的中位数")
    excluded = serializers.IntegerField(min_value=0, help_text="经审批剔除考核的诉求数（全街道）")
    pending = serializers.IntegerField(min_value=0, help_text="待审批的剔除申请数（全街道）")
    ranked = StatsRankingRowOutput(many=True, help_text="区域内参与排名的网格，按置信区间下限排序")
    apart = StatsRankingRowOutput(many=True, help_text="区域内样本不足、不参与排名的网格")
    computed_at = serializers.DateTimeField()
