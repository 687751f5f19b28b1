"""The true parameters of county B, written to county_facts.json: what a calibration must recover."""

YEARS = (2022, 2023, 2024)

# 城乡低保标准 (yuan per person per month), raised every January.
DIBAO_STANDARD = {2022: {"urban": 740, "rural": 580}, 2023: {"urban": 780, "rural": 620},
                  2024: {"urban": 820, "rural": 660}}
# 分类施保: paid on top of the formula, per qualifying member.
CLASSIFIED = {"elderly_70_share": 0.15, "disabled_grade12_share": 0.30, "disabled_grade34_share": 0.10,
              "single_parent_fixed": 100, "orphan_fixed": 50}
DIBAO_PAY_DAY = 18  # monthly, fixed day, period = the month paid for

# Programmes: cadence, when a batch is paid and how long after its approval meeting.
PROGRAMMES = {
    "GLJT": {"name": "高龄津贴", "cadence": "quarterly", "batch_months": [3, 6, 9, 12], "pay_day": 25,
             "approval_days_before_pay": [35, 42], "agency": "township civil affairs office",
             "monthly_rate_by_age": {"80": 50, "90": 100, "100": 300}},
    "CJHL": {"name": "重度残疾人护理补贴", "cadence": "monthly", "pay_day": 15, "approve_day": 5,
             "monthly_rate": {2022: 80, 2023: 90, 2024: 100}, "agency": "county disabled persons' federation"},
    "GDBT": {"name": "耕地地力保护补贴", "cadence": "annual", "batch_months": [6], "pay_day": 20,
             "approval_days_before_pay": [35, 42], "unit_rate": {2022: 105.6, 2023: 108.2, 2024: 110.5},
             "agency": "township finance office"},
    "LSJZ": {"name": "临时救助", "cadence": "ad hoc", "approval_days_before_pay": [2, 8],
             "agency": "township civil affairs office"},
    "DCJZ": {"name": "冬春生活救助", "cadence": "annual", "batch_months": [12], "pay_day": 22,
             "approval_days_before_pay": [40, 45], "agency": "county civil affairs bureau"},
    "ZXJZ": {"name": "专项救助资金", "cadence": "allocation-driven", "approval_days_before_pay": [2, 6],
             "agency": "township civil affairs office"},
}
# Public rental housing: rent paid the month after, on about the 10th; water read every two months
# (blank in odd months), electricity monthly; tenants away for a hospital stay or seasonal work
# leave the unit quiet for 4-5 months with rent paid (below the regulation's six), a share of the
# tenancies each year.
NORMAL_VACANCY_MONTHS = [4, 5]
NORMAL_VACANCY_SHARE = 0.12
WATER_READ_EVERY_MONTHS = 2
ELDERLY_AGE = 80
NURSING_GRADES = [1, 2]
# The province's dibao rules exclude any non-exempt car, whatever its price (a shipped profile).
VEHICLE_PROFILE = "dibao-any-vehicle"
