// Live character counters beside long text fields. Counts as Word's 字数 does for
// Chinese text (and as the server checks): each Chinese character or mark is one, each
// run of Latin letters or digits is one word, spaces count nothing.
function countChars(text) {
  let n = 0, inWord = false;
  for (const c of text) {
    if (/[A-Za-z0-9]/.test(c)) { if (!inWord) { n++; inWord = true; } continue; }
    inWord = false;
    if (!/\s/.test(c)) n++;
  }
  return n;
}
document.querySelectorAll('textarea').forEach((area) => {
  const out = area.nextElementSibling;
  if (!out || !out.classList.contains('counter')) return;
  const max = area.dataset.max && Number(area.dataset.max);
  const about = area.dataset.about && Number(area.dataset.about);
  const show = () => {
    const n = countChars(area.value);
    let text = `已输入 ${n} 字`;
    if (max) text += `，上限 ${max} 字`;
    else if (about) text += `，建议 ${about} 字左右`;
    out.textContent = text;
    out.classList.toggle('field-error', Boolean(max && n > max));
  };
  area.addEventListener('input', show);
  show();
});

// Nothing typed is lost: while the applicant types, the form is kept in this tab's
// sessionStorage (gone when the tab closes, so a shared office computer keeps nothing).
// If a save never reached the server (the session timed out, the network dropped), the
// form offers the kept text back when it is opened again in this tab.
(function keepDraft() {
  const form = document.querySelector('form.application');
  if (!form || form.querySelector('fieldset[disabled]')) return;
  const id = form.getAttribute('action').split('/').pop();
  const key = `px-draft-${id}`;
  const skip = new Set(['csrf', 'version']);
  const values = () => [...new FormData(form)].filter(([k, v]) => !skip.has(k) && typeof v === 'string');
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (_) { kept = null; }
  const store = () => {
    try {
      sessionStorage.setItem(key, JSON.stringify({ at: Date.now(), fields: values() }));
    } catch (_) { /* storage full or disabled: the server copy still stands */ }
  };
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(store, 300); };
  form.addEventListener('input', later);
  form.addEventListener('change', later);
  form.addEventListener('submit', store);
  // Signing out on purpose forgets every kept draft of this tab.
  document.querySelectorAll('form[action="/logout"]').forEach((f) =>
    f.addEventListener('submit', () => {
      Object.keys(sessionStorage).filter((k) => k.startsWith('px-draft-')).forEach((k) => sessionStorage.removeItem(k));
    }));

  // Arriving from a save or a move the server took (`?done=`): what was kept is stored.
  if (new URLSearchParams(location.search).has('done')) {
    sessionStorage.removeItem(key);
    kept = null;
  }
  if (!kept || !Array.isArray(kept.fields)) return;
  if (same(kept.fields, values())) { sessionStorage.removeItem(key); return; }
  const restore = () => {
    const used = new Map();
    for (const [name, value] of kept.fields) {
      const all = [...form.elements].filter((el) => el.name === name);
      if (all.length && (all[0].type === 'radio' || all[0].type === 'checkbox')) {
        all.forEach((el) => { if (el.value === value) el.checked = true; });
        continue;
      }
      const i = used.get(name) || 0;
      used.set(name, i + 1);
      const el = all[i];
      if (!el) continue;
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  };
  const at = new Date(kept.at);
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  const box = document.createElement('div');
  box.className = 'card restore';
  box.setAttribute('role', 'alert');
  const text = document.createElement('p');
  text.textContent = `本页有 ${hhmm} 在本机输入、尚未保存到服务器的内容（可能因登录超时或网络中断未能保存）。`;
  const yes = document.createElement('button');
  yes.type = 'button';
  yes.className = 'primary';
  yes.textContent = '恢复这些内容';
  const no = document.createElement('button');
  no.type = 'button';
  no.textContent = '不用了';
  yes.addEventListener('click', () => {
    restore();
    text.textContent = '已恢复。请检查后点击“保存”，内容才会保存到服务器。';
    yes.remove();
    no.remove();
  });
  no.addEventListener('click', () => { sessionStorage.removeItem(key); box.remove(); });
  box.append(text, yes, ' ', no);
  form.before(box);
})();

// 学习工作经历: “添加一行” adds an empty row like the last one (the server keeps every
// row that has something in it).
document.querySelectorAll('[data-add-row]').forEach((button) => {
  const body = button.previousElementSibling && button.previousElementSibling.tBodies[0];
  if (!body) return;
  button.addEventListener('click', () => {
    const last = body.rows[body.rows.length - 1];
    if (!last) return;
    const row = last.cloneNode(true);
    row.querySelectorAll('input').forEach((i) => { i.value = ''; });
    body.append(row);
    row.querySelector('input').focus();
  });
});
