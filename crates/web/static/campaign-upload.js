// Reads a chosen campaign file into the text box, so the organiser sees what is sent.
document.getElementById('toml-file')?.addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (file) document.getElementById('toml').value = await file.text();
});
