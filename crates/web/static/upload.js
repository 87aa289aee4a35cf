// Materials: several files at once, each sent in parts with its own progress bar. A
// dropped connection retries the part; a closed tab or a reload resumes where the
// server says it stopped (the upload id is remembered in this browser by file). Only a
// finished and checked file becomes an attachment; the server says why one is refused.
(function uploads() {
  const holder = document.querySelector('[data-csrf]');
  const token = holder ? holder.dataset.csrf : '';
  // By application, material and sender too: the same file chosen for another candidate
  // or from another department is another upload.
  const remembered = (base, file, material, sender) =>
    `px-upload-${base}-${material}-${sender || ''}-${file.name}-${file.size}-${file.lastModified}`;

  async function api(method, url, body, headers) {
    const res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: Object.assign({ 'X-CSRF-Token': token }, headers || {}),
      body,
    });
    let json = null;
    try { json = await res.json(); } catch (_) { json = null; }
    return { status: res.status, json };
  }

  // One part with upload progress (fetch cannot report it; XMLHttpRequest can).
  function sendPart(url, blob, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      xhr.withCredentials = true;
      xhr.setRequestHeader('X-CSRF-Token', token);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        let json = null;
        try { json = JSON.parse(xhr.responseText); } catch (_) { json = null; }
        resolve({ status: xhr.status, json });
      };
      xhr.onerror = () => resolve({ status: 0, json: null });
      xhr.send(blob);
    });
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function row(list, file) {
    const li = document.createElement('li');
    li.className = 'upload';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = file.name;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    const note = document.createElement('span');
    note.className = 'hint';
    note.textContent = '准备上传…';
    li.append(name, ' ', bar, ' ', note);
    list.append(li);
    return {
      li,
      progress(sent) {
        const pct = file.size ? Math.min(100, Math.floor((sent * 100) / file.size)) : 100;
        bar.value = pct;
        note.textContent = `已上传 ${pct}%`;
      },
      say(text, error) {
        note.textContent = text;
        li.classList.toggle('field-error', Boolean(error));
      },
      // Refused by the checks: the bar turns red and full, the row says the file is not
      // among the material's files (the count above is the server's, without it).
      refuse(text) {
        bar.value = bar.max;
        li.classList.add('field-error', 'refused');
        note.textContent = `未采用：${text}`;
      },
    };
  }

  async function upload(box, file, sender) {
    const material = box.dataset.material;
    const base = box.dataset.uploads;
    const list = box.querySelector('ul.uploads');
    const ui = row(list, file);
    const key = remembered(base, file, material, sender);
    let state = null;
    const known = localStorage.getItem(key);
    if (known) {
      const r = await api('GET', `/api/v1/uploads/${known}`);
      if (r.status === 200) state = r.json;
    }
    if (!state) {
      const r = await api('POST', base, JSON.stringify({ material, name: file.name, size: file.size, sender }),
        { 'Content-Type': 'application/json' });
      if (r.status !== 201) {
        ui.say((r.json && r.json.error && r.json.error.message) || `上传失败（${r.status}）`, true);
        return;
      }
      state = r.json;
      localStorage.setItem(key, state.id);
    }
    let part = state.parts_received;
    let failures = 0;
    while (part < state.parts_total) {
      const start = part * state.part_size;
      const blob = file.slice(start, Math.min(file.size, start + state.part_size));
      const r = await sendPart(`/api/v1/uploads/${state.id}/parts/${part}`, blob,
        (loaded) => ui.progress(start + loaded));
      if (r.status === 200) {
        part += 1;
        failures = 0;
        ui.progress(Math.min(file.size, part * state.part_size));
      } else if (r.status === 409 && r.json && typeof r.json.parts_received === 'number') {
        part = r.json.parts_received; // the server already has more (or fewer): go on from there
      } else if (r.status === 0 || r.status >= 500) {
        failures += 1;
        ui.say(`网络中断，${Math.min(30, 2 ** failures)} 秒后从 ${Math.floor((start * 100) / Math.max(1, file.size))}% 处继续…`);
        await sleep(1000 * Math.min(30, 2 ** failures));
      } else {
        ui.say((r.json && r.json.error && r.json.error.message) || `上传失败（${r.status}）`, true);
        return;
      }
    }
    ui.say('正在检查文件内容…');
    const done = await api('POST', `/api/v1/uploads/${state.id}/complete`);
    localStorage.removeItem(key);
    if (done.status === 201) {
      ui.say(`已上传：${done.json.summary}`);
      ui.li.classList.add('done');
      await refresh(box);
    } else {
      ui.refuse((done.json && done.json.error && done.json.error.message) || `文件未通过检查（${done.status}）`);
      await refresh(box);
    }
  }

  // One attached file as the page first shows it (templates/materials.html).
  function figure(f, editable) {
    const fig = document.createElement('figure');
    fig.className = 'file';
    let shown;
    if (f.preview) {
      shown = document.createElement('a');
      shown.href = f.url;
      shown.target = '_blank';
      shown.rel = 'noopener';
      const img = document.createElement('img');
      img.className = 'thumb';
      img.src = f.preview;
      img.alt = f.name;
      shown.append(img);
    } else if (f.format === 'mp4' || f.format === 'mov') {
      shown = document.createElement('video');
      shown.className = 'thumb';
      shown.src = f.url;
      shown.controls = true;
      shown.preload = 'metadata';
    } else {
      shown = document.createElement('a');
      shown.href = f.url;
      shown.target = '_blank';
      shown.rel = 'noopener';
      shown.className = 'doc';
      shown.textContent = f.format.toUpperCase();
    }
    const cap = document.createElement('figcaption');
    const summary = document.createElement('span');
    summary.className = 'hint';
    summary.textContent = f.summary;
    const download = document.createElement('a');
    download.href = f.download;
    download.textContent = '下载';
    if (f.sender) {
      const from = document.createElement('strong');
      from.className = 'sender';
      from.textContent = f.sender;
      cap.append(from, document.createElement('br'));
    }
    cap.append(f.name, document.createElement('br'), summary, document.createElement('br'), download);
    if (editable) {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'link danger';
      remove.dataset.remove = f.id;
      remove.textContent = '删除';
      wireRemove(remove);
      cap.append(' · ', remove);
    }
    fig.append(shown, cap);
    return fig;
  }

  // After a file is added or removed: the material's files and what it still lacks, as
  // the server now counts them.
  async function refresh(box) {
    const url = box.dataset.uploads.replace(/\/uploads$/, '/materials');
    const r = await api('GET', url);
    if (r.status !== 200) return;
    const m = r.json.find((x) => x.key === box.dataset.material);
    if (!m) return;
    const attached = box.querySelector('.attached');
    attached.replaceChildren(...m.files.map((f) => figure(f, m.editable)));
    let count = box.querySelector('.count');
    if (m.count_note) {
      if (!count) {
        count = document.createElement('p');
        count.className = 'hint count';
        attached.after(count);
      }
      count.textContent = m.count_note;
    } else if (count) {
      count.remove();
    }
  }

  function wireRemove(b) {
    b.addEventListener('click', async () => {
      const box = b.closest('.material');
      const r = await api('DELETE', `/api/v1/attachments/${b.dataset.remove}`);
      if (r.status === 204) await refresh(box);
      else b.textContent = (r.json && r.json.error && r.json.error.message) || '删除失败';
    });
  }

  document.querySelectorAll('button[data-remove]').forEach(wireRemove);

  document.querySelectorAll('.material[data-uploads]').forEach((box) => {
    const input = box.querySelector('input[type=file]');
    if (!input) return;
    // Files sent in by others (市直相关部门意见) carry who sent them: asked before the
    // files are chosen, so none goes up without it.
    const senderBox = box.querySelector('input[data-sender]');
    input.addEventListener('change', () => {
      const sender = senderBox ? senderBox.value.trim() : undefined;
      let said = box.querySelector('.sender-box .field-error');
      if (senderBox && !sender) {
        if (!said) {
          said = document.createElement('span');
          said.className = 'field-error';
          said.setAttribute('role', 'alert');
          senderBox.parentElement.append(said);
        }
        said.textContent = `请填写${senderBox.labels[0].textContent.replace('*', '').trim()}`;
        senderBox.focus();
        input.value = '';
        return;
      }
      if (said) said.remove();
      // Several at once: each file goes its own way, side by side.
      [...input.files].forEach((f) => { upload(box, f, sender); });
      input.value = '';
      // The next reply may come from another department: asked afresh.
      if (senderBox) senderBox.value = '';
    });
  });
})();
