// The export job page: asks the server how far the job got every second and updates the
// bar and the words; shows the download link once the ZIP can be fetched.
(function exportJob() {
  const card = document.querySelector('.export-job');
  if (!card) return;
  const id = card.dataset.job;
  const bar = document.getElementById('job-progress');
  const status = document.getElementById('job-status');
  const download = document.getElementById('job-download');
  const link = document.getElementById('job-link');
  const name = document.getElementById('job-name');

  async function poll() {
    let job;
    try {
      const res = await fetch(`/api/v1/exports/${id}`, { credentials: 'same-origin' });
      // Signed out, or the job is gone or no longer theirs: the page says which.
      if (res.status === 401 || res.status === 404) {
        window.location.reload();
        return;
      }
      if (!res.ok) throw new Error(String(res.status));
      job = await res.json();
    } catch (_) {
      status.textContent = '暂时无法获取进度，正在重试…';
      setTimeout(poll, 3000);
      return;
    }
    card.dataset.state = job.state;
    if (job.total > 0) {
      bar.max = job.total;
      bar.value = job.done;
    }
    status.textContent = job.status;
    status.classList.toggle('error', job.state === 'failed');
    if (job.download) {
      link.href = job.download;
      name.textContent = job.file_name;
      download.hidden = false;
    }
    if (job.state === 'failed') {
      // The page offers 重新导出 when loaded in this state.
      window.location.reload();
      return;
    }
    if (job.state === 'queued' || job.state === 'running') setTimeout(poll, 1000);
  }
  if (card.dataset.state === 'queued' || card.dataset.state === 'running') setTimeout(poll, 1000);
})();
