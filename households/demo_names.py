"""Common Chinese names for the demo persons: weighted surnames, and given names by the
generation people were born in and by sex."""

from __future__ import annotations

import itertools

from .categories import FEMALE, MALE

# Common surnames with rough weights (per mille); a few with a surname reading (单, 解, 翟, 曾).
SURNAME_WEIGHTS = {
    "王": 71, "李": 70, "张": 68, "刘": 54, "陈": 45, "杨": 31, "赵": 23, "黄": 22, "周": 21,
    "吴": 20, "徐": 17, "孙": 15, "胡": 13, "朱": 13, "高": 12, "林": 12, "何": 12, "郭": 12,
    "马": 11, "罗": 9, "梁": 8, "宋": 8, "郑": 8, "谢": 7, "韩": 7, "唐": 6, "冯": 6, "于": 6,
    "董": 6, "肖": 5, "程": 5, "曹": 5, "袁": 5, "邓": 5, "许": 5, "傅": 4, "沈": 4, "曾": 4,
    "彭": 4, "吕": 4, "苏": 4, "卢": 4, "蒋": 4, "蔡": 4, "贾": 4, "丁": 3, "魏": 3, "薛": 3,
    "叶": 3, "阎": 3, "余": 3, "潘": 3, "杜": 3, "戴": 3, "夏": 2, "钟": 2, "汪": 2, "田": 2,
    "任": 2, "姜": 2, "范": 2, "方": 2, "石": 2, "姚": 2, "谭": 2, "邹": 2, "熊": 2, "金": 2,
    "陆": 2, "郝": 2, "孔": 2, "白": 2, "崔": 2, "康": 2, "毛": 2, "邱": 2, "秦": 2, "史": 2,
    "侯": 1, "邵": 1, "孟": 1, "段": 1, "雷": 1, "尹": 1, "常": 1, "武": 1, "乔": 1, "贺": 1,
    "单": 1, "解": 1, "翟": 1, "牛": 1, "庞": 1, "耿": 1, "齐": 1, "欧阳": 1,
}  # fmt: skip
SURNAMES = list(SURNAME_WEIGHTS)
_SURNAME_CUMULATIVE = list(itertools.accumulate(SURNAME_WEIGHTS.values()))

# Given names (one or two characters) by the decade people were born in, and by sex.
GIVEN_NAMES = {
    (1900, MALE): "建国 国庆 德胜 振华 永福 文明 志强 国强 树林 宝山 连生 春生 金生 长海 玉林 "
    "凤山 福林 德明 有才 庆丰 新民 万福 学礼 福 贵 山 林 发 明",
    (1900, FEMALE): "秀英 桂兰 玉珍 凤英 淑芬 秀兰 桂芳 玉兰 素珍 金凤 秀云 桂英 玉梅 凤兰 "
    "淑珍 翠兰 秀珍 玉华 桂荣 兰英 春兰 荣 珍 兰 凤 英",
    (1960, MALE): "建军 志刚 建华 红军 卫东 海涛 晓东 建平 国华 立新 永刚 学军 海军 建伟 "
    "志勇 立军 伟 磊 勇 军 强 刚 涛 斌 鹏 辉 杰 亮 波 峰",
    (1960, FEMALE): "丽娟 红霞 海燕 晓燕 丽华 春梅 红梅 秀梅 晓红 丽萍 玉霞 桂红 艳红 彩霞 "
    "雪梅 丽丽 丽 静 敏 燕 娟 艳 霞 红 芳 萍 玲 莉 娜",
    (1990, MALE): "浩然 宇航 子豪 俊杰 一鸣 博文 家豪 浩宇 天宇 志鹏 明轩 思远 文博 晨阳 "
    "鹏飞 嘉伟 振宇 子健 旭东 浩 宇 帅 鑫 博 磊 伟 超",
    (1990, FEMALE): "欣怡 雨桐 佳怡 思琪 梦瑶 雨欣 婷婷 晓雪 佳琪 欣然 静怡 婉婷 梦洁 晨曦 "
    "文静 慧敏 嘉欣 雪 倩 颖 璐 悦 宁",
    (2010, MALE): "子轩 梓豪 宇轩 一诺 子墨 梓睿 奕辰 沐宸 锦程 皓轩 俊熙 铭泽 天佑 宇泽 "
    "思源 浩宇 宸 睿 博 瑞",
    (2010, FEMALE): "梓涵 诗涵 子涵 可馨 欣妍 紫萱 语汐 若曦 梦琪 雨萱 依诺 沐晴 芊芊 梓萱 "
    "安琪 欣悦 诗琪 语桐 悦 彤",
}
_GIVEN = {key: names.split() for key, names in GIVEN_NAMES.items()}


def _generation(year: int) -> int:
    return 2010 if year >= 2010 else 1990 if year >= 1990 else 1960 if year >= 1960 else 1900
