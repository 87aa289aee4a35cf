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
document.querySelectorAll('textarea[data-max], textarea[data-about]').forEach((area) => {
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
