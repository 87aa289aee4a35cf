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
  function newKey() { return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12); }
  function vote(n, name, key, retried) {
    key = key || newKey();
    post('/rounds/' + encodeURIComponent(d.stage) + '/votes', { candidate: +n, share: d.share || null, idempotency_key: key }, key)
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
