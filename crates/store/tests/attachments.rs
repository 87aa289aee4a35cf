//! Attachments and resumable uploads, on both databases.

use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::applications::NewApplication;
use pingxuan_store::attachments::{NewAttachment, NewUpload};
use pingxuan_store::testing::TestDb;
use pingxuan_store::{Store, StoreError, on_both_databases};

on_both_databases!(
    uploads_take_parts_in_order,
    attachments_numbered_and_capped,
    sent_files_keep_their_sender
);

/// A 东莞 application and its applicant.
async fn application(s: &Store) -> (i64, i64) {
    let (cid, uid) = pingxuan_store::testing::dongguan_applicant(s).await;
    let (id, _) = s
        .create_application(
            &NewApplication::bare(&cid, uid, "ZMKJ", 2023, "申报人"),
            pingxuan_store::testing::created,
        )
        .await
        .unwrap();
    (id, uid)
}

async fn uploads_take_parts_in_order(db: TestDb) {
    let s = db.store().await;
    let (app, uid) = application(&s).await;
    let up = s
        .create_upload(&NewUpload {
            application_id: app,
            material_key: "videos",
            user_id: uid,
            original_name: "采访.mp4",
            total_size: 20,
            part_size: 8,
            sender: "",
        })
        .await
        .unwrap();
    assert_eq!(up.public_id.len(), 32, "128 random bits");
    assert_eq!(up.parts_total(), 3);
    s.record_part(up.id, 0, 8, "h").await.unwrap();
    // A repeated part (its answer was lost) and a gap are both refused.
    assert!(matches!(
        s.record_part(up.id, 0, 8, "h").await,
        Err(StoreError::Stale)
    ));
    assert!(matches!(
        s.record_part(up.id, 2, 4, "h").await,
        Err(StoreError::Stale)
    ));
    s.record_part(up.id, 1, 8, "h").await.unwrap();
    // More bytes than announced are refused too.
    assert!(matches!(
        s.record_part(up.id, 2, 8, "h").await,
        Err(StoreError::Stale)
    ));
    s.record_part(up.id, 2, 4, "h").await.unwrap();
    let done = s.get_upload(&up.public_id).await.unwrap().unwrap();
    assert!(done.is_complete());
    assert_eq!(done.bytes_received, 20);
    assert!(
        s.idle_uploads(pingxuan_store::now() - 60)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.idle_uploads(pingxuan_store::now() + 1)
            .await
            .unwrap()
            .len(),
        1
    );
    s.delete_upload(up.id).await.unwrap();
    assert_eq!(s.get_upload(&up.public_id).await.unwrap(), None);
}

async fn attachments_numbered_and_capped(db: TestDb) {
    let s = db.store().await;
    let (app, uid) = application(&s).await;
    let c = load(SEEDS[1].1).campaign.unwrap();
    let id_photo = c.materials.iter().find(|m| m.key == "id_photo").unwrap();
    let photos = c.materials.iter().find(|m| m.key == "photos").unwrap();
    let new = |key: &'static str, blob: &'static str| NewAttachment {
        application_id: app,
        material_key: key,
        blob_key: blob,
        original_name: "IMG_0001.JPG",
        format: "jpg",
        content_type: "image/jpeg",
        size: 3 << 20,
        sha256: "00",
        measured: r#"{"width":4000,"height":3000}"#,
        uploaded_by: uid,
        sender: "",
    };
    let first = s
        .add_attachment(
            &new("photos", "a/1"),
            photos,
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();
    let second = s
        .add_attachment(
            &new("photos", "a/2"),
            photos,
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    assert_ne!(first.public_id, second.public_id);
    // A removed number is not given again.
    s.remove_attachment(first.id, &pingxuan_store::testing::audit())
        .await
        .unwrap();
    assert_eq!(s.get_attachment(&first.public_id).await.unwrap(), None);
    let third = s
        .add_attachment(
            &new("photos", "a/3"),
            photos,
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();
    assert_eq!(third.seq, 3);
    let live: Vec<i64> = s
        .attachments_of(app)
        .await
        .unwrap()
        .iter()
        .map(|a| a.seq)
        .collect();
    assert_eq!(live, [2, 3]);
    // One ID photo only, even when two arrive at once.
    let (one, two) = (new("id_photo", "b/1"), new("id_photo", "b/2"));
    let audit = pingxuan_store::testing::audit();
    let (a, b) = tokio::join!(
        s.add_attachment(&one, id_photo, &audit),
        s.add_attachment(&two, id_photo, &audit)
    );
    let refused = [&a, &b].iter().filter(|r| r.is_err()).count();
    assert_eq!(refused, 1, "{a:?} {b:?}");
    let err = a.err().or(b.err()).unwrap();
    assert!(
        matches!(&err, StoreError::QuotaFull(w) if w == "小2寸正面免冠彩色照片须 1 张，现有 2 张"),
        "{err:?}"
    );
}

/// 市直相关部门意见: the sender given on the upload is kept with the file, and a stage's
/// page reads the campaign's sent files in one go (removed ones and the applicant's own
/// files left out).
async fn sent_files_keep_their_sender(db: TestDb) {
    let s = db.store().await;
    let (app, uid) = application(&s).await;
    let up = s
        .create_upload(&NewUpload {
            application_id: app,
            material_key: "department_opinions",
            user_id: uid,
            original_name: "复函.pdf",
            total_size: 20,
            part_size: 8,
            sender: "东莞市公安局",
        })
        .await
        .unwrap();
    assert_eq!(up.sender, "东莞市公安局");
    let c = load(SEEDS[1].1).campaign.unwrap();
    let opinions = c
        .materials
        .iter()
        .find(|m| m.key == "department_opinions")
        .unwrap();
    let photos = c.materials.iter().find(|m| m.key == "photos").unwrap();
    let new = |key: &'static str, sender: &'static str| NewAttachment {
        application_id: app,
        material_key: key,
        blob_key: "x",
        original_name: "复函.pdf",
        format: "pdf",
        content_type: "application/pdf",
        size: 1000,
        sha256: "00",
        measured: r#"{"pages":1}"#,
        uploaded_by: uid,
        sender,
    };
    let audit = pingxuan_store::testing::audit();
    let police = s
        .add_attachment(
            &new("department_opinions", "东莞市公安局"),
            opinions,
            &audit,
        )
        .await
        .unwrap();
    let tax = s
        .add_attachment(
            &new("department_opinions", "国家税务总局东莞市税务局"),
            opinions,
            &audit,
        )
        .await
        .unwrap();
    s.add_attachment(&new("photos", ""), photos, &audit)
        .await
        .unwrap();
    assert_eq!(police.sender, "东莞市公安局");
    let cid = s.get_application(app).await.unwrap().unwrap().campaign_id;
    let sent = |list: Vec<pingxuan_store::attachments::Attachment>| -> Vec<String> {
        list.into_iter().map(|a| a.sender).collect()
    };
    assert_eq!(
        sent(s.sent_files(&cid).await.unwrap()),
        ["东莞市公安局", "国家税务总局东莞市税务局"]
    );
    s.remove_attachment(tax.id, &audit).await.unwrap();
    assert_eq!(sent(s.sent_files(&cid).await.unwrap()), ["东莞市公安局"]);
    assert!(s.sent_files("other").await.unwrap().is_empty());
}
