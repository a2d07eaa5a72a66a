"""What the app runs in the browser tab: one history entry per step, and Streamlit's own words in Chinese.

**One browser history entry per step the user takes.**

Streamlit's frontend pushes a history entry for every change of the URL: for each ``st.query_params`` write
and again for a page switch, so one click that opens another page (``st.switch_page`` with parameters:
first the parameters on the old page's path, then the new path) or that lands on a page which then puts
back its region and year (``filters.restore_missing_params``) leaves two or three entries, and Back seems
to do nothing (or shows a view nobody saw, e.g. 查询 without its filters).

The guard below (installed once per browser tab) lets the first URL change after a user's gesture (a
pointer press, Enter or Space, a changed input) push an entry; every further change until the next
gesture — the app's own syncs, the meeting cycle — replaces the current entry instead. Streamlit itself
already replaces (not pushes) after Back/Forward and for controls bound to the URL.

**No English on screen.** Streamlit's widgets, toolbars and notices speak English ("Drag and drop file
here / Limit 200MB per file", "Select all", "Page not found … Running the app's main page", the chart
toolbar's Show data / Download as PNG / Copy Vega-Lite spec, "Stop" while the first start runs) and
Streamlit has no locale setting: the translator below rewrites those texts (and the tooltips, labels and
placeholders that say them) as they appear. Charts (SVG) and typed-in values are never touched.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import get_script_run_ctx

ZH = {
    # file uploader
    "Drag and drop file here": "将文件拖放到此处", "Drag and drop files here": "将文件拖放到此处",
    "Drag and drop a file here": "将文件拖放到此处", "Browse files": "选择文件", "Upload": "上传",
    "Remove file": "移除文件", "Delete": "删除",
    # selects
    "Select all": "全选", "Deselect all": "全不选", "Clear all": "全部清除", "Choose an option": "请选择",
    "Choose options": "请选择", "No results": "无匹配项", "No options to select": "没有可选项",
    "Selected values": "已选", "Remove": "移除", "Open": "展开", "Close": "关闭", "Clear": "清除",
    "Increment": "加一", "Decrement": "减一",
    # element toolbars (charts, tables)
    "Show data": "显示数据", "Hide data": "隐藏数据", "Download as PNG": "下载 PNG 图片",
    "Download as SVG": "下载 SVG 图片", "Download as CSV": "下载 CSV 文件", "Copy Vega-Lite spec": "复制图表定义",
    "Copy to clipboard": "复制", "Copied to clipboard": "已复制", "Fullscreen": "全屏", "Close fullscreen": "退出全屏",
    "View fullscreen": "全屏", "Exit fullscreen": "退出全屏", "Search": "搜索", "Show/hide columns": "显示/隐藏列",
    "Sort ascending": "升序排列", "Sort descending": "降序排列", "Autosize": "自动列宽", "Pin column": "固定列",
    "Unpin column": "取消固定", "Hide column": "隐藏列", "Format": "格式", "Automatic": "自动",
    "Add row": "添加行", "Delete row": "删除行", "Link to heading": "本节链接", "Help": "帮助",
    # the app frame
    "Stop": "停止", "Running...": "运行中……", "Rerun": "重新运行", "Main menu": "主菜单", "Settings": "设置",
    "Print": "打印", "About": "关于", "Clear cache": "清除缓存", "Record a screencast": "录制屏幕",
    "Collapse sidebar": "收起侧栏", "Expand sidebar": "展开侧栏", "Sidebar": "侧栏", "App pages": "页面",
    "Skip to main content": "跳到正文", "Page not found": "页面不存在", "Connecting": "正在连接",
    "Please wait...": "请稍候……", "Connection error": "连接中断", "Show more": "更多", "Show less": "收起",
    "Is Streamlit still running?": "服务器是否仍在运行?", "Dismiss": "关闭", "Deploy": "发布",
    "file upload": "上传文件",
}

# Texts with a variable part: (JavaScript regular expression, replacement).
ZH_PATTERNS = (
    (r"^Limit (.+?) per file(.*)$", "单个文件不超过 $1$2"),
    (r"^(.+?) per file$", "单个文件不超过 $1"),
    (r"^Press Enter to (apply|submit form)$", "按回车键确认"),
    (r"^Help for (.*)$", "“$1”的说明"),
    (r"^You have requested page /(.*), but no corresponding file was found in the app's pages/ directory\.?"
     r"( Running the app's main page\.)?$", "没有页面 /$1,已打开首页。"),
    (r"^The page that you have requested does not seem to exist\.( Running the app's main page\.)?$",
     "您要打开的页面不存在,已打开首页。"),
    (r"^Running the app's main page\.?$", "已打开首页。"),
    (r"^This app has encountered an error\. The original error message is redacted.*$",
     "本页出错。错误详情已记入服务器日志,请稍后重试或联系系统管理员。"),
)


def _translator_js() -> str:
    import json

    return """
(function () {
  const w = window;
  if (w.__zhStreamlit) return;
  w.__zhStreamlit = true;
  const ZH = %s;
  const PREFIXES = Object.keys(ZH).sort((a, b) => b.length - a.length);
  const PATTERNS = %s.map(([re, to]) => [new RegExp(re), to]);
  const ATTRS = ['title', 'aria-label', 'placeholder', 'data-placeholder'];
  const zh = (text) => {
    const t = text.trim();
    if (!t || !/[A-Za-z]/.test(t)) return null;
    if (Object.prototype.hasOwnProperty.call(ZH, t)) return text.replace(t, ZH[t]);
    for (const [re, to] of PATTERNS) if (re.test(t)) return text.replace(t, t.replace(re, to));
    for (const key of PREFIXES) {  // "Download as SVG: 图名", "Remove 因病"
      for (const sep of [': ', ' ']) if (t.startsWith(key + sep)) return text.replace(key + sep, ZH[key] + sep);
    }
    return null;
  };
  const skip = (el) => !el || el.closest('svg, code, pre, textarea, [contenteditable="true"]');
  const fixText = (node) => {
    if (skip(node.parentElement)) return;
    const to = zh(node.nodeValue);
    if (to !== null && to !== node.nodeValue) node.nodeValue = to;
  };
  const fixAttrs = (el) => {
    if (el.namespaceURI === 'http://www.w3.org/2000/svg') return;
    for (const a of ATTRS) {
      const v = el.getAttribute(a);
      if (v) { const to = zh(v); if (to !== null && to !== v) el.setAttribute(a, to); }
    }
  };
  const walk = (root) => {
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1 || skip(root)) return;
    fixAttrs(root);
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => n.nodeType === 1 && n.closest('svg, code, pre') ? NodeFilter.FILTER_REJECT
                                                                         : NodeFilter.FILTER_ACCEPT });
    for (let n = it.nextNode(); n; n = it.nextNode()) { if (n.nodeType === 3) fixText(n); else fixAttrs(n); }
  };
  const seen = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'characterData') fixText(r.target);
      else if (r.type === 'attributes') fixAttrs(r.target);
      else r.addedNodes.forEach(walk);
    }
  });
  seen.observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                          attributes: true, attributeFilter: ATTRS});
  walk(document.body);
  document.documentElement.lang = 'zh-CN';
})();
(function () {
  // Presentation mode is laid out for 1280x720 and zoomed to the window (theme.py: --present-zoom).
  const w = window;
  if (w.__presentZoom) return;
  w.__presentZoom = true;
  const fit = () => {
    const z = Math.max(0.5, Math.min(w.innerWidth / 1280, w.innerHeight / 720));
    document.documentElement.style.setProperty('--present-zoom', String(z));
  };
  fit();
  w.addEventListener('resize', fit);
  // Streamlit sizes a chart from its frame's getBoundingClientRect, which under CSS zoom is the zoomed size:
  // the chart would be drawn zoom times too wide. The frame reports its size in its own (zoomed) pixels.
  const rect = Element.prototype.getBoundingClientRect;
  const SIZED_BY_RECT = new Set(['stFullScreenFrame', 'stVegaLiteChart']);
  Element.prototype.getBoundingClientRect = function () {
    const r = rect.call(this);
    const z = this.currentCSSZoom || 1;
    if (z === 1 || !SIZED_BY_RECT.has(this.getAttribute('data-testid'))) return r;
    return new DOMRect(r.x, r.y, r.width / z, r.height / z);
  };
  // Charts drawn before this ran measured the zoomed size: a one-pixel nudge makes each frame measure again.
  const frames = document.querySelectorAll('[data-testid="stFullScreenFrame"]');
  frames.forEach((f) => { f.style.paddingRight = '1px'; });
  w.requestAnimationFrame(() => w.requestAnimationFrame(() => frames.forEach((f) => { f.style.paddingRight = ''; })));
})();
""" % (json.dumps(ZH, ensure_ascii=False), json.dumps(ZH_PATTERNS, ensure_ascii=False))


GUARD_JS = """<script>
(function () {
  const w = window;
  if (w.__oneEntryPerStep) return;
  w.__oneEntryPerStep = true;
  const h = w.history, push = h.pushState.bind(h), replace = h.replaceState.bind(h);
  let mayPush = false;
  const grant = () => { mayPush = true; };
  w.addEventListener('pointerdown', grant, true);
  w.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') grant(); }, true);
  w.addEventListener('change', grant, true);
  w.addEventListener('popstate', () => { mayPush = false; }, true);
  h.pushState = function (state, title, url) {
    if (mayPush) { mayPush = false; return push(state, title, url); }
    return replace(state, title, url);
  };
})();
</script>"""


def run_script(script: str) -> None:
    """Send a ``<script>...</script>`` for the browser to run, outside the page's layout (no "<" inside it: see
    SCRIPT below)."""
    from streamlit.delta_generator_singletons import get_dg_singleton_instance

    if get_script_run_ctx() is None:  # bare mode (a unit test importing app code): nothing to send to
        return
    get_dg_singleton_instance().event_dg.html(script, unsafe_allow_javascript=True)


def install() -> None:
    """Send the history guard and the translator with every run (the frontend runs them once per tab)."""
    run_script(SCRIPT)


# The frontend sanitises st.html (DOMPurify) before it runs the script: a "<" inside it (even in a comment)
# can cut the script short, so the code avoids the character (tests/test_client_script.py checks).
SCRIPT = GUARD_JS.replace("</script>", _translator_js() + "</script>")
