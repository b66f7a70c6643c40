"""Import kinds: the fields a file of each kind may carry, their synonyms and which are required.

Fields are what a source file provides (``customer_name``, ``product_code`` ...);
the importer turns them into canonical table rows. Synonyms are compared after
NFKC normalisation, lower-casing and removing spaces/punctuation, so ``订单 编号``,
``Order ID`` and ``ORDER_ID`` all match.
"""

from __future__ import annotations

from dataclasses import dataclass

from salescope.schema.tables import LogicalType


@dataclass(frozen=True)
class Field:
    name: str
    type: LogicalType
    synonyms: tuple[str, ...]
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    required: tuple[tuple[str, ...], ...]
    """Each inner tuple is satisfied if any one of its fields is present."""
    doc: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _f(name: str, type_: LogicalType, *synonyms: str, doc: str = "") -> Field:
    return Field(name, type_, (name, *synonyms), doc)


_CUSTOMER_CODE = _f(
    "customer_code",
    "text",
    "客户编号",
    "客户编码",
    "客户代码",
    "客户ID",
    "会员编号",
    "买家ID",
    "Customer ID",
    "CustomerID",
    "Customer Code",
    "Client ID",
    "Account ID",
)
_CUSTOMER_NAME = _f(
    "customer_name",
    "text",
    "客户名称",
    "客户",
    "客户名",
    "买家",
    "买家昵称",
    "单位名称",
    "购货单位",
    "客户全称",
    "往来单位",
    "公司名称",
    "Customer Name",
    "Customer",
    "Client",
    "Buyer",
    "Account",
    "Account Name",
)
_PHONE = _f(
    "phone", "text", "联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "Phone", "Mobile", "Telephone", "Tel"
)
_PRODUCT_CODE = _f(
    "product_code",
    "text",
    "产品编码",
    "产品编号",
    "商品编号",
    "商品编码",
    "物料编码",
    "存货编码",
    "SKU",
    "Product ID",
    "ProductID",
    "StockCode",
    "Item Code",
    "Item ID",
)
_PRODUCT_NAME = _f(
    "product_name",
    "text",
    "产品名称",
    "商品名称",
    "品名",
    "物料名称",
    "存货名称",
    "货品名称",
    "产品",
    "商品",
    "Product Name",
    "Product",
    "Description",
    "Item",
    "Item Description",
)
_CATEGORY = _f(
    "category",
    "text",
    "类别",
    "品类",
    "产品类别",
    "商品类别",
    "分类",
    "大类",
    "Category",
    "Product Category",
    "Item Category",
    "Product Group",
)
_SALESPERSON = _f(
    "salesperson",
    "text",
    "销售员",
    "业务员",
    "销售代表",
    "负责人",
    "客户经理",
    "销售",
    "Salesperson",
    "Sales Rep",
    "Sales Agent",
    "Owner",
    "Account Manager",
)
_REGION = _f("region", "text", "区域", "地区", "大区", "销售区域", "Region", "Area", "Territory")
_PROVINCE = _f("province", "text", "省份", "省", "收货省份", "收货地址", "Province", "State")
_CITY = _f("city", "text", "城市", "市", "City")
_CHANNEL = _f("channel", "text", "渠道", "销售渠道", "Channel", "Sales Channel", "Segment")
_QUANTITY = _f(
    "quantity",
    "decimal",
    "数量",
    "销售数量",
    "采购数量",
    "件数",
    "Quantity",
    "Qty",
    "Line Item Quantity",
    "Order Quantity",
)
_UNIT_PRICE = _f("unit_price", "money", "单价", "销售单价", "含税单价", "Unit Price", "UnitPrice", "Price")
_AMOUNT = _f(
    "amount",
    "money",
    "金额",
    "总金额",
    "销售额",
    "销售金额",
    "价税合计",
    "实付金额",
    "含税金额",
    "成交金额",
    "买家实际支付金额",
    "Sales",
    "Amount",
    "Total",
    "Revenue",
    "Line Total",
    "Line Item Value",
)

SALES = Kind(
    "sales",
    (
        _f(
            "order_id",
            "text",
            "订单编号",
            "订单号",
            "单号",
            "单据编号",
            "销售单号",
            "单据号",
            "发货单号",
            "出库单号",
            "Order ID",
            "OrderID",
            "Order No",
            "Order Number",
            "InvoiceNo",
            "Invoice",
            "Invoice No",
        ),
        _f("line_no", "int", "行号", "明细行号", "Line", "Line No", "Line Number"),
        _f(
            "order_date",
            "date",
            "下单日期",
            "订单日期",
            "日期",
            "单据日期",
            "销售日期",
            "订单创建时间",
            "下单时间",
            "开单日期",
            "业务日期",
            "出库日期",
            "Order Date",
            "Date",
            "InvoiceDate",
            "Invoice Date",
        ),
        _CUSTOMER_CODE,
        _CUSTOMER_NAME,
        _PHONE,
        _PRODUCT_CODE,
        _PRODUCT_NAME,
        _CATEGORY,
        _f("subcategory", "text", "子类别", "小类", "Sub-Category", "Subcategory"),
        _QUANTITY,
        _UNIT_PRICE,
        _AMOUNT,
        _f("cost", "money", "成本", "成本金额", "Cost", "COGS"),
        _f("profit", "money", "利润", "毛利", "Profit", "Gross Profit"),
        _f("discount", "decimal", "折扣", "折扣率", "Discount"),
        _SALESPERSON,
        _REGION,
        _PROVINCE,
        _CITY,
        _CHANNEL,
    ),
    required=(("order_date",), ("amount", "unit_price")),
    doc="Order lines; returns are negative lines.",
)

CUSTOMERS = Kind(
    "customers",
    (
        _CUSTOMER_CODE,
        _CUSTOMER_NAME,
        _PHONE,
        _f("email", "text", "邮箱", "电子邮件", "Email", "E-mail"),
        _f("address", "text", "地址", "详细地址", "联系地址", "Address"),
        _CITY,
        _PROVINCE,
        _REGION,
        _f("industry", "text", "行业", "所属行业", "Industry"),
        _f("kind", "text", "客户类型", "类型", "Customer Type", "Type"),
        _f("tax_id", "text", "统一社会信用代码", "税号", "纳税人识别号", "Tax ID", "USCC"),
        _SALESPERSON,
    ),
    required=(("customer_code", "customer_name"),),
)

PRODUCTS = Kind(
    "products",
    (
        _PRODUCT_CODE,
        _PRODUCT_NAME,
        _CATEGORY,
        _f("subcategory", "text", "子类别", "小类", "Sub-Category", "Subcategory"),
        _f("unit_cost", "money", "成本价", "单位成本", "进价", "Unit Cost", "Cost"),
        _UNIT_PRICE,
    ),
    required=(("product_code", "product_name"),),
)

_SUPPLIER_CODE = _f("supplier_code", "text", "供应商编号", "供应商编码", "Supplier ID", "Vendor ID")
_SUPPLIER_NAME = _f(
    "supplier_name", "text", "供应商", "供应商名称", "Supplier", "Vendor", "Supplier Name", "Vendor Name"
)

PURCHASES = Kind(
    "purchases",
    (
        _f("po_id", "text", "采购单号", "采购订单号", "PO", "PO ID", "PO_ID", "PO Number", "PO / SO #"),
        _f("line_no", "int", "行号", "Line", "Line No"),
        _f("order_date", "date", "采购日期", "下单日期", "订单日期", "Order Date", "PO Date", "PO Sent to Vendor Date"),
        _SUPPLIER_CODE,
        _SUPPLIER_NAME,
        _PRODUCT_CODE,
        _PRODUCT_NAME,
        _CATEGORY,
        _QUANTITY,
        _UNIT_PRICE,
        _AMOUNT,
        _f(
            "promised_date",
            "date",
            "约定交期",
            "计划到货日期",
            "承诺日期",
            "Promised Date",
            "Scheduled Delivery Date",
            "Due Date",
        ),
        _f(
            "received_date",
            "date",
            "到货日期",
            "实际到货日期",
            "入库日期",
            "Received Date",
            "Delivery Date",
            "Delivered to Client Date",
        ),
        _f("received_qty", "decimal", "到货数量", "入库数量", "Received Qty", "Received Quantity"),
        _f("rejected_qty", "decimal", "不合格数量", "退货数量", "拒收数量", "Rejected Qty", "Defective Units"),
        _f("status", "text", "状态", "订单状态", "Status", "Order Status"),
    ),
    required=(("order_date",), ("supplier_code", "supplier_name"), ("amount", "unit_price")),
)

SUPPLIERS = Kind(
    "suppliers",
    (_SUPPLIER_CODE, _SUPPLIER_NAME, _PHONE, _PROVINCE, _CATEGORY),
    required=(("supplier_code", "supplier_name"),),
)

INVENTORY = Kind(
    "inventory",
    (
        _f("snapshot_date", "date", "盘点日期", "快照日期", "日期", "Snapshot Date", "Date"),
        _PRODUCT_CODE,
        _PRODUCT_NAME,
        _f("warehouse", "text", "仓库", "Warehouse"),
        _f("on_hand_qty", "decimal", "库存数量", "现存量", "结存数量", "On Hand", "On Hand Qty", "Stock"),
        _f("value", "money", "库存金额", "结存金额", "Value", "Stock Value"),
    ),
    required=(("snapshot_date",), ("product_code", "product_name"), ("on_hand_qty",)),
)

OPPORTUNITIES = Kind(
    "opportunities",
    (
        _f("opportunity_id", "text", "商机编号", "商机ID", "机会编号", "Opportunity ID", "opportunity_id"),
        _CUSTOMER_CODE,
        _CUSTOMER_NAME,
        _SALESPERSON,
        _PRODUCT_CODE,
        _PRODUCT_NAME,
        _f("created_date", "date", "创建日期", "创建时间", "Created Date", "Engage Date", "engage_date"),
        _f("stage", "text", "阶段", "销售阶段", "商机阶段", "Stage", "Deal Stage", "deal_stage"),
        _f("stage_entered", "date", "进入阶段日期", "Stage Entered"),
        _f("amount", "money", "金额", "商机金额", "预计金额", "成交金额", "Amount", "Close Value", "close_value"),
        _f("expected_close", "date", "预计成交日期", "Expected Close"),
        _f("close_date", "date", "成交日期", "关闭日期", "Close Date", "close_date"),
        _f("status", "text", "状态", "Status"),
        _f("lost_reason", "text", "输单原因", "丢单原因", "Lost Reason"),
        _f("source", "text", "来源", "线索来源", "Source", "Lead Source"),
    ),
    required=(("opportunity_id",), ("stage", "status")),
)

FEEDBACK = Kind(
    "feedback",
    (
        _f("feedback_id", "text", "反馈编号", "问卷编号", "Feedback ID", "Response ID"),
        _CUSTOMER_CODE,
        _CUSTOMER_NAME,
        _f("date", "date", "日期", "反馈日期", "Date"),
        _f("kind", "text", "类型", "问卷类型", "Kind", "Survey"),
        _f("score", "decimal", "评分", "分数", "得分", "Score"),
        _f("comment", "text", "评价", "意见", "备注", "Comment"),
    ),
    required=(("date",), ("score",)),
)

TARGETS = Kind(
    "targets",
    (
        _f("period", "text", "期间", "月份", "Period", "Month"),
        _f("scope", "text", "范围", "Scope"),
        _SALESPERSON,
        _REGION,
        _f("metric", "text", "指标", "Metric"),
        _f("value", "decimal", "目标值", "目标", "目标金额", "Target", "Value"),
    ),
    required=(("period",), ("value",)),
)

KINDS: dict[str, Kind] = {
    k.name: k for k in (SALES, CUSTOMERS, PRODUCTS, PURCHASES, SUPPLIERS, INVENTORY, OPPORTUNITIES, FEEDBACK, TARGETS)
}
