// The voting page: vote by tapping, prove the phone when asked, show the receipt.
// ES5 syntax without a build step (fetch, Promise and closest as WeChat's browser has
// them); the page reads, searches and links without it.
(function () {
  var body = document.body, d = body.dataset;
  var base = '/api/v1/votes/' + encodeURIComponent(d.campaign);
  var pending = null, timer = null;
  function $(id) { return document.getElementById(id); }
  function post(path, data, key) {
    var h = { 'Content-Type': 'application/json' };
    if (key) h['Idempotency-Key'] = key;
    return fetch(base + path, { method: 'POST', headers: h, credentials: 'same-origin', body: JSON.stringify(data) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
      });
  }
  function said(r) { return (r.body && r.body.error && r.body.error.message) || '操作未完成，请稍后重试'; }
  function toast(text, bad) {
    var t = $('toast'); t.textContent = text; t.className = 'toast' + (bad ? ' bad' : ''); t.hidden = false;
    clearTimeout(t._h); t._h = setTimeout(function () { t.hidden = true; }, bad ? 5000 : 3000);
  }
  // The browser's traits, announced in the rules and kept only hashed: a phone that
  // clears its cookie between numbers keeps them.
  function traits() {
    var s = window.screen || {}, n = navigator, tz = '';
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { tz = ''; }
    return [s.width + 'x' + s.height + '@' + (window.devicePixelRatio || 1), s.colorDepth, tz,
      new Date().getTimezoneOffset(), n.language, (n.languages || []).join(','), n.platform,
      n.hardwareConcurrency || '', n.deviceMemory || '', n.maxTouchPoints || 0].join('|');
  }
  function newKey() { return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12); }
  function vote(n, name, key, retried) {
    key = key || newKey();
    post('/rounds/' + encodeURIComponent(d.stage) + '/votes', { candidate: +n, share: d.share || null, idempotency_key: key, traits: traits() }, key)
      .then(function (r) {
        if (r.ok) { showReceipt(name, r.body); return; }
        if (r.status === 401) { pending = { n: n, name: name }; openVerify(); return; }
        toast(said(r), true);
      }, function () {
        // The network dropped: the same key again cannot count twice.
        if (!retried) setTimeout(function () { vote(n, name, key, true); }, 1500);
        else toast('网络不稳定，投票结果未知；请稍后重试（不会重复计票）', true);
      });
  }
  function showReceipt(name, b) {
    $('receipt-what').textContent = '已为' + name + '投票' + (b.repeated ? '（此前已记录）' : '') + '。';
    $('receipt-code').textContent = b.receipt;
    $('receipt').hidden = false;
    receiptImage(name, b.receipt);
  }
  // The receipt as a picture: WeChat's browser saves an image on a long press but
  // cannot download a file. Drawn with the phone's own fonts; no phone number on it.
  function receiptImage(name, code) {
    var card = $('receipt-card'), c = document.createElement('canvas');
    if (!card || !c.getContext) return;
    var r = Math.min(window.devicePixelRatio || 1, 3), w = 600, h = 400, g = c.getContext('2d');
    c.width = w * r; c.height = h * r; g.scale(r, r);
    g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
    g.fillStyle = '#b3261e'; g.fillRect(0, 0, w, 10);
    var font = '"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif';
    function line(text, y, size, color, weight) {
      g.font = (weight || '') + ' ' + size + 'px ' + font; g.fillStyle = color; g.textAlign = 'center';
      // Long names shrink to the card's width rather than run off it.
      g.fillText(text, w / 2, y, w - 48);
    }
    line(card.getAttribute('data-heading') || document.title, 62, 22, '#333', '600');
    line('投票回执', 112, 30, '#b3261e', '700');
    line('已为 ' + name + ' 投票', 164, 24, '#222');
    g.fillStyle = '#f4f5f7'; g.fillRect(40, 196, w - 80, 76);
    g.font = '700 34px ui-monospace,Menlo,Consolas,monospace'; g.fillStyle = '#111'; g.textAlign = 'center';
    g.fillText(code, w / 2, 247, w - 100);
    var now = new Date(), pad = function (n) { return (n < 10 ? '0' : '') + n; };
    line('回执时间 ' + now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate()) + ' ' + pad(now.getHours()) + ':' + pad(now.getMinutes()), 312, 18, '#666');
    line('结果公布后，凭回执码在投票页“回执查询”核对这一票是否计入', 352, 17, '#666');
    try {
      $('receipt-img').src = c.toDataURL('image/png');
      card.hidden = false;
    } catch (e) { card.hidden = true; }
  }
  function fieldErr(field, text) {
    var all = document.querySelectorAll('#verify .err');
    for (var i = 0; i < all.length; i++) if (!field || all[i].getAttribute('data-for') === field) all[i].textContent = '';
    if (field && text) {
      var el = document.querySelector('#verify .err[data-for="' + field + '"]');
      if (el) el.textContent = text; else toast(text, true);
    }
  }
  function refreshCaptcha() {
    var img = $('v-captcha-img');
    if (img) { img.src = '/tp/captcha.png?' + Date.now(); $('v-captcha').value = ''; }
  }
  function openVerify() {
    $('verify').hidden = false; fieldErr(null); refreshCaptcha(); $('v-phone').focus();
  }
  function countdown(s) {
    var b = $('v-send'); b.disabled = true; clearInterval(timer);
    timer = setInterval(function () {
      s -= 1; b.textContent = s > 0 ? s + ' 秒后可重发' : '重新获取';
      if (s <= 0) { clearInterval(timer); b.disabled = false; }
    }, 1000);
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('.vote-btn') : null;
    if (b) { e.preventDefault(); vote(b.getAttribute('data-n'), b.getAttribute('data-name')); }
  });
  if ($('verify')) {
    var img = $('v-captcha-img');
    if (img) img.addEventListener('click', refreshCaptcha);
    $('v-cancel').addEventListener('click', function () { $('verify').hidden = true; pending = null; });
    $('receipt-close').addEventListener('click', function () { $('receipt').hidden = true; });
    $('v-send').addEventListener('click', function () {
      fieldErr(null);
      var c = $('v-captcha');
      post('/codes', { phone: $('v-phone').value, captcha: c ? c.value : null }).then(function (r) {
        if (r.ok) { $('v-sent').textContent = r.body.message; countdown(r.body.resend_after || 60); $('v-code').focus(); return; }
        var err = r.body.error || {};
        fieldErr(err.field || (r.status === 422 ? 'phone' : 'code'), said(r));
        if (err.field === 'captcha' || c) refreshCaptcha();
      }, function () { fieldErr('code', '网络不稳定，请稍后重试'); });
    });
    $('verify-form').addEventListener('submit', function (e) {
      e.preventDefault(); fieldErr(null);
      post('/session', { phone: $('v-phone').value, code: $('v-code').value }).then(function (r) {
        if (!r.ok) { var err = r.body.error || {}; fieldErr(err.field || 'code', said(r)); return; }
        $('verify').hidden = true;
        $('voterbar').innerHTML = '';
        $('voterbar').appendChild(document.createTextNode('已验证手机 ' + r.body.phone + '，可以投票'));
        body.setAttribute('data-voter', '1');
        if (pending) { var p = pending; pending = null; vote(p.n, p.name); }
      }, function () { fieldErr('code', '网络不稳定，请稍后重试'); });
    });
  }
  // 回执查询: the proof and the count as text to copy, where files cannot be downloaded.
  var copies = document.querySelectorAll('[data-copy]');
  for (var k = 0; k < copies.length; k++) {
    copies[k].addEventListener('click', function () {
      var t = $(this.getAttribute('data-copy')), ok = false;
      t.focus(); t.select();
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      toast(ok ? '已复制，可粘贴到备忘录或文件中保存' : '请长按文字，选择“全选”后复制', !ok);
    });
  }
  // Instant search over the cards on the page; the form still works without script.
  var q = $('q'), cards = $('cards');
  if (q && cards) {
    q.addEventListener('input', function () {
      var t = q.value.replace(/\s+/g, ''), shown = 0, all = cards.children;
      for (var i = 0; i < all.length; i++) {
        var c = all[i], hit = !t || c.getAttribute('data-name').indexOf(t) >= 0 || c.getAttribute('data-n') === t;
        c.hidden = !hit; if (hit) shown++;
      }
      var line = $('count-line');
      if (line) line.textContent = t ? '“' + t + '”：找到 ' + shown + ' 位（共 ' + all.length + ' 位）' : '共 ' + all.length + ' 位候选人';
    });
  }
})();
