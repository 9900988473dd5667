"""Invented-name pools for the fictional sample directory (used by gen_sample.py).

Each pool has given names (male, female) and family names. An entry is either a
Latin-script string or a (Latin, native-script) pair; for pools with native
script the person's displayName is written in that script. Names are common
first and last names combined at random: no entry refers to a real person.
"""

# How a family name changes for a woman in some pools: 'a' appends a/а
# (Russian -ov/-ev/-in, Bulgarian), 'pl' turns -ski/-cki into -ska/-cka.
POOLS = {
    "anglo": dict(
        m="James Oliver Liam Noah Henry Samuel Thomas Daniel Owen Ethan Callum Aidan".split(),
        f="Emma Olivia Charlotte Grace Amelia Chloe Hannah Megan Abigail Ruth Siobhan Zoë".split(),
        fam="Smith Taylor Brown Wilson Walker Wright Robinson Thompson Hughes Edwards "
            "Murphy Kelly O'Brien MacLeod Campbell Fraser Bennett Harper Collins Reid".split()),
    "german": dict(
        m="Lukas Jonas Felix Maximilian Tobias Matthias Jürgen Stefan Florian Niklas".split(),
        f="Anna Lena Sophie Katharina Johanna Sabine Ute Miriam Lea Jana".split(),
        fam="Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schäfer "
            "Koch Bauer Richter Klein Wolf Schröder Neumann Zimmermann Huber Gruber".split()),
    "dutch": dict(
        m="Daan Sem Lars Bram Thijs Joost Pieter Ruben Maarten Wouter".split(),
        f="Sanne Lotte Fleur Femke Eva Anouk Marieke Ilse Noor Lieke".split(),
        fam=["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
             "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peeters",
             "Maes", "Claes", "Willems"]),
    "nordic": dict(
        m="Søren Lars Erik Magnus Anders Jonas Mikael Henrik Sigurður Jóhann Eino Mikko".split(),
        f="Ingrid Astrid Sigrid Freja Maja Linnéa Kristín Guðrún Aino Liisa Hanna Sofie".split(),
        fam="Hansen Johansen Nielsen Andersson Lindqvist Berg Halvorsen Eriksson Dahl "
            "Thorvaldsen Sigurðsson Virtanen Korhonen Mäkinen Nieminen Lund Holm Strand".split()),
    "french": dict(
        m="Julien Mathieu Antoine Nicolas Hugo Théo Laurent Benoît Rémi Olivier Yannick".split(),
        f="Camille Léa Manon Chloé Élodie Sophie Claire Margaux Inès Aurélie Noémie".split(),
        fam="Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau "
            "Lefèvre Girard Bonnet Dupont Lambert Fontaine Rousseau Mercier Gauthier Chevalier".split()),
    "italian": dict(
        m="Marco Luca Giuseppe Alessandro Matteo Davide Francesco Stefano Paolo Andrea".split(),
        f="Giulia Chiara Francesca Sara Martina Elena Valentina Federica Alessia Silvia".split(),
        fam="Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco "
            "Bruno Gallo Conti Longo Costa Fontana Caruso Mancini Borg Camilleri".split()),
    "iberian": dict(
        m="José Javier Carlos Miguel Alejandro Pablo João Tiago Rui Nuno Andrés Iñaki".split(),
        f="María Lucía Carmen Ana Paula Marta Inês Beatriz Joana Sofía Nerea Núria".split(),
        fam="García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Ruiz "
            "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Almeida Sousa Puig".split()),
    "latam": dict(
        m="Mateo Santiago Sebastián Diego Matías Nicolás Joaquín Emiliano Rodrigo Gabriel "
          "Thiago Felipe".split(),
        f="Valentina Camila Sofía Isabella Mariana Daniela Gabriela Fernanda Luciana Ximena "
          "Larissa Beatriz".split(),
        fam="Hernández Ramírez Torres Flores Rivera Morales Castillo Ortiz Vargas Rojas "
            "Mendoza Aguilar Cruz Navarro Guzmán Quispe Mamani Souza Lima Carvalho".split()),
    "slavic": dict(
        m="Piotr Tomasz Marek Jakub Ondřej Lukáš Marko Luka Nikola Stefan Dejan Andrej".split(),
        f="Agnieszka Katarzyna Zuzana Tereza Petra Ivana Jelena Milica Ana Maja Lucie Barbora".split(),
        fam="Kowalski Nowak Wiśniewski Dvořák Novotný Horvat Kovačević Petrović Jovanović "
            "Babić Marić Zielinski Lewandowski Kovač Novak Krajnc Popović Nikolić".split(),
        fem="pl"),
    "russian": dict(
        m=[("Aleksandr", "Александр"), ("Dmitry", "Дмитрий"), ("Sergey", "Сергей"),
           ("Andrey", "Андрей"), ("Mikhail", "Михаил"), ("Ivan", "Иван"), ("Oleksiy", "Олексій"),
           ("Nikolay", "Николай"), ("Pavel", "Павел"), ("Georgi", "Георги")],
        f=[("Anna", "Анна"), ("Elena", "Елена"), ("Olga", "Ольга"), ("Natalya", "Наталья"),
           ("Tatiana", "Татьяна"), ("Irina", "Ирина"), ("Svetlana", "Светлана"),
           ("Yuliya", "Юлия"), ("Mariya", "Мария"), ("Daria", "Дарья")],
        fam=[("Ivanov", "Иванов"), ("Smirnov", "Смирнов"), ("Kuznetsov", "Кузнецов"),
             ("Popov", "Попов"), ("Sokolov", "Соколов"), ("Lebedev", "Лебедев"),
             ("Kozlov", "Козлов"), ("Novikov", "Новиков"), ("Morozov", "Морозов"),
             ("Petrov", "Петров"), ("Volkov", "Волков"), ("Pavlov", "Павлов"),
             ("Borisov", "Борисов"), ("Dimitrov", "Димитров"), ("Nazarov", "Назаров")],
        fem="a"),
    "greek": dict(
        m=[("Georgios", "Γεώργιος"), ("Dimitrios", "Δημήτριος"), ("Konstantinos", "Κωνσταντίνος"),
           ("Nikolaos", "Νικόλαος"), ("Panagiotis", "Παναγιώτης"), ("Andreas", "Ανδρέας")],
        f=[("Maria", "Μαρία"), ("Eleni", "Ελένη"), ("Katerina", "Κατερίνα"),
           ("Sofia", "Σοφία"), ("Despina", "Δέσποινα"), ("Ioanna", "Ιωάννα")],
        fam=[("Papadopoulou", "Παπαδοπούλου"), ("Georgiou", "Γεωργίου"),
             ("Nikolaou", "Νικολάου"), ("Christodoulou", "Χριστοδούλου"),
             ("Ioannou", "Ιωάννου"), ("Pappa", "Παππά"), ("Antoniou", "Αντωνίου")]),
    "turkic": dict(
        m="Mehmet Emre Burak Can Murat Elvin Rashad Nurlan Aibek Timur Bekzod Serdar".split(),
        f="Ayşe Zeynep Elif Merve Leyla Aygün Aigerim Dilnoza Gulnara Asel Madina Selin".split(),
        fam="Yılmaz Kaya Demir Şahin Çelik Aliyev Mammadova Nurlanov Abdullaeva Karimov "
            "Tursunov Bekova Öztürk Aydın Arslan Doğan Seitkali Rahimov".split()),
    "caucasus": dict(
        m="Armen Davit Tigran Levan Giorgi Nika Aram Vakhtang Hayk Irakli".split(),
        f="Anahit Lilit Nino Tamar Mariam Ani Salome Gayane Ketevan Sona".split(),
        fam="Petrosyan Grigoryan Harutyunyan Sargsyan Beridze Kapanadze Gelashvili "
            "Tsiklauri Hovhannisyan Melikishvili".split()),
    "arabic": dict(
        m=[("Ahmed", "أحمد"), ("Mohammed", "محمد"), ("Omar", "عمر"), ("Khalid", "خالد"),
           ("Youssef", "يوسف"), ("Karim", "كريم"), ("Tariq", "طارق"), ("Samir", "سمير"),
           ("Hassan", "حسن"), ("Faisal", "فيصل")],
        f=[("Fatima", "فاطمة"), ("Layla", "ليلى"), ("Mariam", "مريم"), ("Noor", "نور"),
           ("Huda", "هدى"), ("Rania", "رانيا"), ("Salma", "سلمى"), ("Amina", "أمينة"),
           ("Dina", "دينا"), ("Yasmin", "ياسمين")],
        fam=[("Al-Mansouri", "المنصوري"), ("Haddad", "حداد"), ("Nasser", "ناصر"),
             ("Khoury", "خوري"), ("Al-Hashimi", "الهاشمي"), ("Saleh", "صالح"),
             ("Ibrahim", "إبراهيم"), ("Mahmoud", "محمود"), ("Bakri", "بكري"),
             ("Al-Amin", "الأمين"), ("Benali", "بن علي"), ("Ziani", "زياني")]),
    "persian": dict(
        m="Reza Ali Hossein Amir Mehdi Dariush Farhad Ahmad Mohammad Jawad Bahram".split(),
        f="Maryam Zahra Shirin Parisa Leila Nasrin Fereshteh Roya Sima Nahid Laleh".split(),
        fam="Hosseini Ahmadi Rezaei Karimi Moradi Mohammadi Jafari Rahimi Sadeghi "
            "Azizi Haidari Noori Popal Wardak".split()),
    "hebrew": dict(
        m=[("Yosef", "יוסף"), ("David", "דוד"), ("Avi", "אבי"), ("Noam", "נועם"),
           ("Eitan", "איתן"), ("Uri", "אורי")],
        f=[("Noa", "נועה"), ("Tamar", "תמר"), ("Yael", "יעל"), ("Shira", "שירה"),
           ("Michal", "מיכל"), ("Maya", "מאיה")],
        fam=[("Cohen", "כהן"), ("Levi", "לוי"), ("Mizrahi", "מזרחי"), ("Peretz", "פרץ"),
             ("Biton", "ביטון"), ("Friedman", "פרידמן"), ("Katz", "כץ")]),
    "southasian": dict(
        m="Arjun Rahul Vikram Sanjay Anil Rohan Imran Tanvir Kasun Suresh Prakash Bilal".split(),
        f="Priya Ananya Deepa Kavita Sunita Nusrat Farzana Dilani Meera Lakshmi Ayesha Pooja".split(),
        fam="Sharma Patel Iyer Reddy Nair Gupta Khan Rahman Chowdhury Perera Fernando "
            "Shrestha Joshi Das Mukherjee Siddiqui Qureshi Wangchuk".split()),
    "chinese": dict(
        m=[("Wei", "伟"), ("Jun", "军"), ("Hao", "浩"), ("Ming", "明"), ("Jie", "杰"),
           ("Lei", "磊"), ("Tao", "涛"), ("Chen", "晨")],
        f=[("Fang", "芳"), ("Jing", "静"), ("Li", "丽"), ("Min", "敏"), ("Yan", "燕"),
           ("Xiu", "秀"), ("Hui", "慧"), ("Ling", "玲")],
        fam=[("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"),
             ("Yang", "杨"), ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"),
             ("Lin", "林"), ("Guo", "郭")],
        eastern=True),
    "japanese": dict(
        m=[("Haruto", "陽翔"), ("Takeshi", "健"), ("Kenji", "健二"), ("Hiroshi", "浩"),
           ("Daisuke", "大輔"), ("Shota", "翔太")],
        f=[("Yuki", "由紀"), ("Sakura", "さくら"), ("Aiko", "愛子"), ("Haruka", "遥"),
           ("Naomi", "直美"), ("Emi", "恵美")],
        fam=[("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Tanaka", "田中"),
             ("Watanabe", "渡辺"), ("Ito", "伊藤"), ("Yamamoto", "山本"), ("Nakamura", "中村")],
        eastern=True),
    "korean": dict(
        m=[("Minjun", "민준"), ("Jihoon", "지훈"), ("Seojun", "서준"), ("Hyunwoo", "현우"),
           ("Dongha", "동하")],
        f=[("Jiwoo", "지우"), ("Seoyeon", "서연"), ("Minji", "민지"), ("Haeun", "하은"),
           ("Yuna", "유나")],
        fam=[("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최"), ("Jung", "정"),
             ("Kang", "강"), ("Yoon", "윤")],
        eastern=True),
    "seasian": dict(
        m="Anh Minh Somchai Arief Budi Rizal Jose Mark Sokha Thant Khamla Hafiz".split(),
        f="Linh Thao Siriporn Dewi Siti Putri Maricel Jasmine Sreymom Thida Malee Nurul".split(),
        fam="Nguyen Tran Pham Le Srisuk Wongsa Santoso Wijaya Hidayat Reyes Cruz Bautista "
            "Sok Chan Aung Phommavong Abdullah Ismail".split()),
    "pacific": dict(
        m="Sione Tevita Ioane Manaia Kalani Tama Viliami Semisi Rangi Matiu".split(),
        f="Mele Losana Ana Leilani Moana Salote Talia Aroha Vaiana Sina".split(),
        fam="Tupou Fifita Taufa Leota Tuilagi Faleolo Ratu Naivalu Tangaroa Kauhane "
            "Wilson Taylor".split()),
    "african": dict(
        m="Kwame Kofi Chinedu Oluwaseun Tendai Thabo Sipho Amadou Moussa Jabari Tesfaye "
          "Baraka Kagiso Emeka".split(),
        f="Amara Ngozi Chiamaka Abena Akosua Nomvula Thandiwe Aminata Fatoumata Wanjiru "
          "Zawadi Makeda Adaeze Nia".split(),
        fam="Mensah Okafor Adeyemi Nwosu Osei Boateng Dlamini Nkosi Moyo Diallo Traoré "
            "Keita Mwangi Otieno Kamau Haile Bekele Ndiaye Banda Phiri".split()),
}

# Main language of a territory (BCP 47 primary subtag) -> name pool.
LANG_POOL = {
    "en": "anglo", "de": "german", "lb": "german", "nl": "dutch", "fr": "french",
    "it": "italian", "mt": "italian", "es": "iberian", "pt": "iberian", "ca": "iberian",
    "da": "nordic", "sv": "nordic", "nb": "nordic", "no": "nordic", "nn": "nordic",
    "is": "nordic", "fi": "nordic", "fo": "nordic", "kl": "nordic", "et": "nordic",
    "pl": "slavic", "cs": "slavic", "sk": "slavic", "sl": "slavic", "hr": "slavic",
    "sr": "slavic", "bs": "slavic", "mk": "slavic", "sq": "slavic", "hu": "slavic",
    "ro": "slavic", "lt": "slavic", "lv": "slavic",
    "ru": "russian", "uk": "russian", "be": "russian", "bg": "russian",
    "el": "greek", "tr": "turkic", "az": "turkic", "kk": "turkic", "uz": "turkic",
    "ky": "turkic", "tk": "turkic", "tg": "persian", "mn": "turkic",
    "hy": "caucasus", "ka": "caucasus",
    "ar": "arabic", "fa": "persian", "ps": "persian", "ur": "southasian", "he": "hebrew",
    "hi": "southasian", "bn": "southasian", "ta": "southasian", "si": "southasian",
    "kn": "southasian", "or": "southasian", "as": "southasian", "sa": "southasian",
    "sat": "southasian", "sd": "southasian", "ml": "southasian", "ks": "southasian",
    "gu": "southasian", "pa": "southasian", "mr": "southasian",
    "ne": "southasian", "dz": "southasian", "dv": "southasian", "te": "southasian",
    "zh": "chinese", "ja": "japanese", "ko": "korean",
    "th": "seasian", "vi": "seasian", "id": "seasian", "ms": "seasian", "fil": "seasian",
    "km": "seasian", "lo": "seasian", "my": "seasian", "tet": "seasian",
    "sm": "pacific", "to": "pacific", "fj": "pacific", "mi": "pacific", "bi": "pacific",
    "tpi": "pacific", "ty": "pacific", "mh": "pacific", "na": "pacific", "tvl": "pacific",
    "gil": "pacific", "pau": "pacific", "haw": "pacific", "ch": "pacific",
    "sw": "african", "am": "african", "ti": "african", "so": "arabic", "rw": "african",
    "rn": "african", "mg": "african", "st": "african", "tn": "african", "ss": "african",
    "zu": "african", "xh": "african", "af": "dutch", "ny": "african", "sn": "african",
    "sg": "african", "wo": "african", "ha": "african", "yo": "african", "ig": "african",
}
